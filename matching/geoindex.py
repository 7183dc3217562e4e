"""A FAISS index partitioned by geography.

Citizens search within a radius (typically 10-75 km); a nationwide index would scan every
posting in Denmark and then throw most candidates away. Postings are kept in one
``VectorIndex`` per cell of 0.5 degrees latitude by 1 degree longitude (about 55 x 60 km), and a
query searches only the cells that come within its radius, merging their results. Within those
cells the search is as exact as the cell indexes (flat by default).
"""

from __future__ import annotations

import heapq
import json
import math
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

import numpy as np

from .geo import EARTH_RADIUS_KM
from .index import Manifest, VectorIndex

CELL_LAT = 0.5
CELL_LON = 1.0
Cell = tuple[int, int]


def cell_of(lat: float, lon: float) -> Cell:
    return (math.floor(lat / CELL_LAT), math.floor(lon / CELL_LON))


def _km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(min(1.0, a)))


distance_km = _km  # great-circle km in plain floats (the numpy one costs more for one pair)


def cell_within(cell: Cell, lat: float, lon: float, radius_km: float) -> bool:
    """Whether any point of the cell lies within ``radius_km`` of (lat, lon)."""
    lat0, lon0 = cell[0] * CELL_LAT, cell[1] * CELL_LON
    nearest_lat = min(max(lat, lat0), lat0 + CELL_LAT)
    nearest_lon = min(max(lon, lon0), lon0 + CELL_LON)
    return _km(lat, lon, nearest_lat, nearest_lon) <= radius_km


class GeoIndex:
    def __init__(
        self, dimension: int, *, hnsw_threshold: int = 200_000, ef_search: int | None = None
    ):
        self.dimension = dimension
        self.hnsw_threshold = hnsw_threshold
        self.ef_search = ef_search
        self.cells: dict[Cell, VectorIndex] = {}
        self.cell_of_posting: dict[str, Cell] = {}

    def _kind_for(self, size: int) -> str:
        return "hnsw" if size > self.hnsw_threshold else "flat"

    @classmethod
    def build(
        cls,
        ids: Sequence[str],
        vectors: np.ndarray,
        coords: Sequence[tuple[float, float]],
        *,
        hnsw_threshold: int = 200_000,
        ef_search: int | None = None,
    ) -> GeoIndex:
        geo = cls(
            vectors.shape[1] if len(vectors) else 384,
            hnsw_threshold=hnsw_threshold,
            ef_search=ef_search,
        )
        groups: dict[Cell, list[int]] = {}
        for i, (lat, lon) in enumerate(coords):
            groups.setdefault(cell_of(lat, lon), []).append(i)
        for cell, rows in groups.items():
            cell_ids = [ids[i] for i in rows]
            geo.cells[cell] = VectorIndex.build(
                cell_ids, vectors[rows], kind=geo._kind_for(len(rows)), ef_search=ef_search
            )
            for pid in cell_ids:
                geo.cell_of_posting[pid] = cell
        return geo

    def swap_in(self, other: GeoIndex) -> None:
        # One assignment each; a search running meanwhile finishes on the cells it looked up.
        self.cells, self.cell_of_posting = other.cells, other.cell_of_posting
        self.hnsw_threshold, self.ef_search = other.hnsw_threshold, other.ef_search

    def __len__(self) -> int:
        return sum(len(ix) for ix in self.cells.values())

    def __contains__(self, posting_id: str) -> bool:
        cell = self.cell_of_posting.get(posting_id)
        return cell is not None and posting_id in self.cells[cell]

    @property
    def kind(self) -> str:
        kinds = {ix.kind for ix in self.cells.values()}
        return "hnsw" if "hnsw" in kinds else "flat"

    def add(self, posting_id: str, vector: np.ndarray, lat: float, lon: float) -> None:
        self.remove([posting_id])
        cell = cell_of(lat, lon)
        if cell not in self.cells:
            self.cells = {
                **self.cells,
                cell: VectorIndex(self.dimension, ef_search=self.ef_search or 64),
            }
        self.cells[cell].add([posting_id], vector.reshape(1, -1))
        self.cell_of_posting[posting_id] = cell

    def remove(self, posting_ids: Sequence[str]) -> None:
        for pid in posting_ids:
            cell = self.cell_of_posting.pop(pid, None)
            if cell is not None:
                self.cells[cell].remove([pid])

    def search(
        self,
        vector: np.ndarray,
        k: int,
        lat: float | None = None,
        lon: float | None = None,
        radius_km: float | None = None,
    ) -> list[tuple[str, float]]:
        """Top ``k`` by inner product among the cells within the radius (all cells when no
        place is given)."""
        cells = self.cells
        if lat is not None and lon is not None and radius_km is not None:
            chosen = [ix for cell, ix in cells.items() if cell_within(cell, lat, lon, radius_km)]
        else:
            chosen = list(cells.values())
        results = [hit for ix in chosen for hit in ix.search(vector, k)]
        return heapq.nlargest(k, results, key=lambda hit: hit[1])

    def vectors(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        by_cell: dict[Cell, list[str]] = {}
        for pid in ids:
            cell = self.cell_of_posting.get(pid)
            if cell is not None:
                by_cell.setdefault(cell, []).append(pid)
        out: dict[str, np.ndarray] = {}
        for cell, pids in by_cell.items():
            out.update(self.cells[cell].vectors(pids))
        return out

    # --- persistence -------------------------------------------------------------------------
    def save(self, directory: Path, manifest: Manifest) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        names = {}
        for (a, b), ix in self.cells.items():
            name = f"cell_{a}_{b}"
            ix.save(
                directory / name,
                Manifest(manifest.model_id, self.dimension, len(ix), manifest.checksum, ix.kind),
            )
            names[name] = [a, b]
        (directory / "cells.json").write_text(json.dumps(names))
        tmp = directory / "manifest.json.tmp"
        tmp.write_text(json.dumps(asdict(manifest)))
        tmp.replace(directory / "manifest.json")  # last: a manifest means a complete index

    @classmethod
    def load(
        cls,
        directory: Path,
        manifest: Manifest,
        *,
        hnsw_threshold: int = 200_000,
        ef_search: int | None = None,
    ) -> GeoIndex:
        geo = cls(manifest.dimension, hnsw_threshold=hnsw_threshold, ef_search=ef_search)
        for name, (a, b) in json.loads((directory / "cells.json").read_text()).items():
            cell_manifest = VectorIndex.read_manifest(directory / name)
            if cell_manifest is None:
                raise FileNotFoundError(f"index cell {name} is missing its manifest")
            ix = VectorIndex.load(directory / name, cell_manifest, ef_search)
            geo.cells[(a, b)] = ix
            for pid in ix._state.int_of:
                geo.cell_of_posting[pid] = (a, b)
        return geo
