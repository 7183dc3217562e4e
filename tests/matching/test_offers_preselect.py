"""The deck ranks in full only the offers that lead its order (``preselect_offers``): ranking
those must give the same first cards, in the same order, as ranking every offer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from matching.offers import preselect_offers, rank_offers
from matching.records import CitizenProfile, HistoryItem

UNITS = ["8344", "8343", "9333", "4321", "2512", "5223", "7212", "8322"]


def _world(seed: int, n: int):
    rng = np.random.default_rng(seed)
    isco = {f"occ-{i}": UNITS[i % len(UNITS)] for i in range(40)}
    now = datetime(2026, 5, 4, 9, tzinfo=UTC)
    offers, vectors = [], {}
    for i in range(n):
        video = rng.random() < 0.15
        targets = [f"occ-{j}" for j in rng.choice(40, size=int(rng.integers(1, 3)), replace=False)]
        lat, lon = 56.15 + rng.normal(0, 0.2), 10.2 + rng.normal(0, 0.3)
        offers.append(
            {
                "_id": f"offer-{seed}-{i}",
                "targetOccupationIds": targets,
                "mode": "VIDEO" if video else "IN_PERSON",
                "location": None if video else {"type": "Point", "coordinates": [lon, lat]},
                "createdAt": now - timedelta(hours=float(rng.uniform(0, 24 * 40))),
            }
        )
        if rng.random() < 0.9:  # some offers not embedded yet
            v = rng.standard_normal(8).astype(np.float32)
            vectors[offers[-1]["_id"]] = v / np.linalg.norm(v)
    return isco, now, offers, vectors


@pytest.mark.parametrize(("seed", "profiling"), [(1, True), (2, True), (3, False), (4, True)])
def test_ranking_the_preselected_gives_the_first_cards_of_ranking_all(seed, profiling):
    isco, now, offers, vectors = _world(seed, 900)
    v = np.ones(8, dtype=np.float32) / np.sqrt(8)
    profile = CitizenProfile(
        id=f"citizen-{seed}", lat=56.15, lon=10.2, radius_km=40,
        vector=v if profiling else None, profiling=profiling,
        wanted={"occ-3": isco["occ-3"]},
        history=[HistoryItem("occ-9", isco["occ-9"], "Lagermedarbejder", None),
                 HistoryItem(None, "7212", "Svejser", None)],
        feedback={"8344": 0.4, "2512": -0.5},
    )  # fmt: skip
    day = "2026-05-04"
    full = rank_offers(profile, offers, now, day, isco, vectors, reach=5000)
    pool = preselect_offers(profile, offers, now, day, isco, vectors, reach=5000, k=40)
    assert len(pool) == 40
    cut = rank_offers(profile, pool, now, day, isco, vectors, reach=5000)
    assert [c.offer_id for c in cut[:20]] == [c.offer_id for c in full[:20]]
    assert any(c.on_field for c in full[:20]) and not all(c.on_field for c in full)


def test_few_offers_are_all_kept():
    isco, now, offers, vectors = _world(5, 10)
    profile = CitizenProfile(id="c", lat=56.15, lon=10.2, radius_km=40)
    assert preselect_offers(profile, offers, now, "2026-05-04", isco, vectors, k=40) == offers
