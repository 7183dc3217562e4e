"""The geographic partition returns exactly what a brute-force search within the radius would."""

from __future__ import annotations

import numpy as np

from matching.geo import haversine_km_many
from matching.geoindex import GeoIndex, cell_of, cell_within


def test_cells_within_radius():
    aarhus = (56.157, 10.211)
    assert cell_within(cell_of(*aarhus), *aarhus, 1)
    assert cell_within(cell_of(55.68, 12.57), *aarhus, 200)  # Copenhagen is ~155 km away
    assert not cell_within(cell_of(55.68, 12.57), *aarhus, 100)


def test_matches_brute_force_inside_radius(tmp_path):
    rng = np.random.default_rng(3)
    n = 4000
    lat = rng.uniform(54.6, 57.7, n)
    lon = rng.uniform(8.1, 12.6, n)
    vectors = rng.standard_normal((n, 32)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    ids = [f"p{i}" for i in range(n)]
    geo = GeoIndex.build(ids, vectors, list(zip(lat, lon, strict=True)))
    assert len(geo.cells) > 4
    for q in range(20):
        here = (lat[q], lon[q])
        query = vectors[q + 100]
        inside = haversine_km_many(here[0], here[1], lat, lon) <= 40
        brute = sorted(
            ((ids[i], float(vectors[i] @ query)) for i in np.nonzero(inside)[0]),
            key=lambda h: -h[1],
        )[:10]
        got = [h for h in geo.search(query, 400, *here, 40) if inside[int(h[0][1:])]][:10]
        assert [g[0] for g in got] == [b[0] for b in brute]


def test_updates_and_persistence(tmp_path):
    from matching.index import Manifest

    v = np.eye(4, dtype=np.float32)
    geo = GeoIndex.build(["a", "b"], v[:2], [(56.1, 10.2), (55.6, 12.5)])
    geo.add("c", v[2], 57.0, 9.9)
    geo.add("a", v[3], 55.4, 10.4)  # moved to Odense
    geo.remove(["b"])
    assert len(geo) == 2 and "b" not in geo and geo.cell_of_posting["a"] == cell_of(55.4, 10.4)
    manifest = Manifest("m", 4, 2, "x", "geo-flat")
    geo.save(tmp_path, manifest)
    loaded = GeoIndex.load(tmp_path, manifest)
    assert loaded.search(v[3], 1) == [("a", 1.0)] and "c" in loaded and len(loaded) == 2
