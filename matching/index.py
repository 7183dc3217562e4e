"""The FAISS vector index over job postings, with string ids mapped to FAISS int64 ids.

* Exact inner product (``IndexFlatIP``) by default; HNSW above a size threshold, with
  ``efSearch`` chosen by the benchmark for recall@20 >= 0.95 against exact search.
* Incremental add and remove. HNSW cannot remove vectors, so removed ids become tombstones that
  searches skip; ``needs_compaction`` says when a rebuild aside would pay off.
* Rebuilds happen aside and are swapped in as a whole, so searches never see a half-built index.
* ``save``/``load`` persist the index with a manifest (model, dimension, count, checksum); a
  manifest that does not match the current postings means: rebuild.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import faiss
import numpy as np


@dataclass(frozen=True)
class Manifest:
    model_id: str
    dimension: int
    count: int
    checksum: str
    kind: str

    @staticmethod
    def checksum_of(pairs: Iterable[tuple[str, str]]) -> str:
        """Checksum over (posting id, content hash) pairs, order-independent."""
        digest = hashlib.sha256()
        for pid, chash in sorted(pairs):
            digest.update(f"{pid}:{chash}\n".encode())
        return digest.hexdigest()


EF_CANDIDATES = (16, 32, 64, 96, 128, 192, 256, 384, 512, 768, 1024, 1536, 2048)


def _new_faiss(kind: str, dimension: int, hnsw_m: int = 32) -> faiss.Index:
    if kind == "hnsw":
        inner = faiss.IndexHNSWFlat(dimension, hnsw_m, faiss.METRIC_INNER_PRODUCT)
        inner.hnsw.efConstruction = 80
    else:
        inner = faiss.IndexFlatIP(dimension)
    return faiss.IndexIDMap2(inner)


class _State:
    """One immutable-by-convention generation of the index (mutated only under the lock)."""

    def __init__(self, kind: str, dimension: int) -> None:
        self.kind = kind
        self.index = _new_faiss(kind, dimension)
        self.ids: dict[int, str] = {}
        self.int_of: dict[str, int] = {}
        self.tombstones: set[int] = set()
        self.next_id = 1


class VectorIndex:
    def __init__(self, dimension: int, *, kind: str = "flat", ef_search: int = 64) -> None:
        self.dimension = dimension
        self.ef_search = ef_search
        self._lock = threading.Lock()
        self._state = _State(kind, dimension)

    # --- building ----------------------------------------------------------------------------
    @classmethod
    def build(
        cls,
        ids: Sequence[str],
        vectors: np.ndarray,
        *,
        kind: str = "flat",
        ef_search: int | None = None,
        target_recall: float = 0.95,
    ) -> VectorIndex:
        """Build an index. For HNSW without a given ``ef_search``, the smallest efSearch whose
        recall@20 against exact search reaches ``target_recall`` on a sample is chosen."""
        index = cls(vectors.shape[1] if len(vectors) else 384, kind=kind, ef_search=ef_search or 64)
        index.add(ids, vectors)
        if kind == "hnsw" and ef_search is None and len(ids) > 20:
            index.ef_search = index.tune_ef_search(vectors, target_recall)
        return index

    def tune_ef_search(
        self, vectors: np.ndarray, target: float = 0.95, sample: int = 100, k: int = 20
    ) -> int:
        rng = np.random.default_rng(0)
        picks = rng.choice(len(vectors), size=min(sample, len(vectors)), replace=False)
        queries = vectors[picks] + rng.normal(0, 0.05, (len(picks), vectors.shape[1])).astype(
            np.float32
        )
        exact = np.argsort(-(queries @ vectors.T), axis=1)[:, :k]
        state = self._state
        truth = [{state.ids[int(n) + 1] for n in row} for row in exact]  # ids start at 1
        for ef in EF_CANDIDATES:
            self.ef_search = ef
            found = [{pid for pid, _ in self.search(q, k)} for q in queries]
            recall = float(np.mean([len(t & f) / k for t, f in zip(truth, found, strict=True)]))
            if recall >= target:
                return ef
        return EF_CANDIDATES[-1]

    def swap_in(self, other: VectorIndex) -> None:
        """Replace this index's contents with ``other``'s in one step (build aside, swap)."""
        with self._lock:
            self._state = other._state
            self.ef_search = other.ef_search

    @property
    def kind(self) -> str:
        return self._state.kind

    def __len__(self) -> int:
        state = self._state
        return len(state.ids) - len(state.tombstones)

    def __contains__(self, posting_id: str) -> bool:
        state = self._state
        i = state.int_of.get(posting_id)
        return i is not None and i not in state.tombstones

    @property
    def needs_compaction(self) -> bool:
        state = self._state
        return len(state.tombstones) > max(1000, len(state.ids) // 10)

    # --- incremental updates -----------------------------------------------------------------
    def add(self, ids: Sequence[str], vectors: np.ndarray) -> None:
        """Add postings; a posting already present is replaced (its text changed)."""
        if len(ids) == 0:
            return
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        with self._lock:
            state = self._state
            self._remove_locked(state, [i for i in ids if i in state.int_of])
            new = np.arange(state.next_id, state.next_id + len(ids), dtype=np.int64)
            state.next_id += len(ids)
            state.index.add_with_ids(vectors, new)
            for n, pid in zip(new.tolist(), ids, strict=True):
                state.ids[n] = pid
                state.int_of[pid] = n

    def remove(self, ids: Sequence[str]) -> None:
        with self._lock:
            self._remove_locked(self._state, ids)

    @staticmethod
    def _remove_locked(state: _State, ids: Sequence[str]) -> None:
        internal = [state.int_of.pop(i) for i in ids if i in state.int_of]
        if not internal:
            return
        if state.kind == "flat":
            state.index.remove_ids(np.array(internal, dtype=np.int64))
            for n in internal:
                state.ids.pop(n, None)
        else:
            state.tombstones.update(internal)

    # --- search ------------------------------------------------------------------------------
    def search(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        query = np.ascontiguousarray(vector.reshape(1, -1), dtype=np.float32)
        with self._lock:
            state = self._state
            if state.index.ntotal == 0:
                return []
            fetch = min(k + len(state.tombstones), state.index.ntotal)
            params = None
            if state.kind == "hnsw":
                params = faiss.SearchParametersHNSW(efSearch=max(self.ef_search, fetch))
            # One query is a few microseconds of work: run it on this thread alone. FAISS's
            # default (an OpenMP team of every core) costs more than the search itself, and
            # on a busy machine its spinning team took ~20 ms per cell (py-spy, issue 18).
            # The setting is this thread's; it is put back for whatever runs here next.
            threads = faiss.omp_get_max_threads()
            faiss.omp_set_num_threads(1)
            try:
                scores, found = state.index.search(query, fetch, params=params)
            finally:
                faiss.omp_set_num_threads(threads)
            out = []
            for score, n in zip(scores[0].tolist(), found[0].tolist(), strict=True):
                if n < 0 or n in state.tombstones:
                    continue
                out.append((state.ids[n], score))
                if len(out) == k:
                    break
            return out

    def vectors(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        """The stored vectors of these postings (those present)."""
        with self._lock:
            state = self._state
            present = [(pid, n) for pid in ids if (n := state.int_of.get(pid)) is not None]
            if not present:
                return {}
            # One batched reconstruct instead of one call (and one array) per posting.
            rows = state.index.reconstruct_batch(np.array([n for _, n in present], np.int64))
            return {pid: rows[i] for i, (pid, _) in enumerate(present)}

    # --- persistence -------------------------------------------------------------------------
    def save(self, directory: Path, manifest: Manifest) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        with self._lock:
            state = self._state
            tmp = directory / "postings.faiss.tmp"
            faiss.write_index(state.index, str(tmp))
            ids = {
                "ids": {str(k): v for k, v in state.ids.items()},
                "tombstones": sorted(state.tombstones),
                "next": state.next_id,
                "ef_search": self.ef_search,
            }
        (directory / "ids.json.tmp").write_text(json.dumps(ids))
        (directory / "manifest.json.tmp").write_text(json.dumps(asdict(manifest)))
        # Renames are atomic: a crash leaves the old files or the new ones, never a mix of
        # one generation's index with another's manifest (the manifest goes last).
        tmp.replace(directory / "postings.faiss")
        (directory / "ids.json.tmp").replace(directory / "ids.json")
        (directory / "manifest.json.tmp").replace(directory / "manifest.json")

    @staticmethod
    def read_manifest(directory: Path) -> Manifest | None:
        path = directory / "manifest.json"
        if not path.exists():
            return None
        try:
            return Manifest(**json.loads(path.read_text()))
        except (ValueError, TypeError):
            return None

    @classmethod
    def load(cls, directory: Path, manifest: Manifest, ef_search: int | None = None) -> VectorIndex:
        data = json.loads((directory / "ids.json").read_text())
        tuned = ef_search or data.get("ef_search", 64)
        index = cls(manifest.dimension, kind=manifest.kind, ef_search=tuned)
        state = index._state
        state.index = faiss.read_index(str(directory / "postings.faiss"))
        state.ids = {int(k): v for k, v in data["ids"].items()}
        state.int_of = {v: k for k, v in state.ids.items()}
        state.tombstones = set(data["tombstones"])
        for n in state.tombstones:
            state.int_of.pop(state.ids.get(n, ""), None)
        state.next_id = data["next"]
        return index
