"""A content-hash embedding cache on local disk.

Append-only: ``<model>.keys`` holds one hex hash per line and ``<model>.f32`` the matching
float32 rows. Loading reads both once; writes append under a file lock, so several processes
(API, worker, seeder) can share one cache directory. A torn last row (a crash mid-append) is
ignored on load.

Within a process the cache is shared by threads (request handlers embedding a profile, the
offer-vector filler, the job agent), so its rows and index change only under one lock: a
reader never sees an index entry whose row is not there yet (an ``IndexError`` under
concurrent deck requests, issue 14). Rows live in a buffer that doubles when full, so a write
copies nothing already stored (appending with ``vstack`` copied every row on every write);
a stored row is never written again, so the views ``get_many`` hands out stay valid.
"""

from __future__ import annotations

import fcntl
import re
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np


class EmbeddingCache:
    def __init__(self, directory: Path, model_id: str, dimension: int) -> None:
        safe = re.sub(r"[^A-Za-z0-9_.-]", "_", model_id)
        directory.mkdir(parents=True, exist_ok=True)
        self.keys_path = directory / f"{safe}.keys"
        self.rows_path = directory / f"{safe}.f32"
        self.lock_path = directory / f"{safe}.lock"
        self.dimension = dimension
        self._lock = threading.Lock()  # guards _index, _rows and _count in this process
        self._index: dict[str, int] = {}
        self._rows = np.zeros((0, dimension), dtype=np.float32)
        self._count = 0
        self._load()

    def _load(self) -> None:
        if not self.keys_path.exists() or not self.rows_path.exists():
            return
        with open(self.lock_path, "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            keys = self.keys_path.read_text().split()
            raw = np.fromfile(self.rows_path, dtype=np.float32)
            complete = min(len(keys), raw.size // self.dimension)
            if complete != len(keys) or complete * self.dimension != raw.size:
                # A crash mid-append: cut both files back to the rows that have keys, so
                # later appends stay aligned.
                self.keys_path.write_text("".join(f"{k}\n" for k in keys[:complete]))
                with open(self.rows_path, "r+b") as rows:
                    rows.truncate(complete * self.dimension * 4)
        self._rows = raw[: complete * self.dimension].reshape(complete, self.dimension).copy()
        self._count = complete
        self._index = {k: i for i, k in enumerate(keys[:complete])}

    def __len__(self) -> int:
        with self._lock:
            return len(self._index)

    def get_many(self, keys: Sequence[str]) -> list[np.ndarray | None]:
        with self._lock:
            rows, index = self._rows, self._index
            return [rows[i] if (i := index.get(k)) is not None else None for k in keys]

    def put_many(self, keys: Sequence[str], vectors: np.ndarray) -> None:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, self.dimension)
        if len(keys) != len(vectors):
            raise ValueError("one vector per key")
        if not len(keys):
            return
        with self._lock:
            # The process lock is held across the file append too, so this process's rows are
            # appended to the files in the order they enter memory.
            with open(self.lock_path, "w") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                # Rows and keys are appended in this order: a crash leaves at worst keys
                # without rows, which _load drops.
                with open(self.rows_path, "ab") as rows:
                    rows.write(vectors.tobytes())
                with open(self.keys_path, "a") as f:
                    f.write("".join(f"{k}\n" for k in keys))
            start = self._count
            needed = start + len(vectors)
            if needed > len(self._rows):
                grown = np.empty((max(needed, 2 * len(self._rows), 64), self.dimension), np.float32)
                grown[:start] = self._rows[:start]
                self._rows = grown
            self._rows[start:needed] = vectors
            self._count = needed
            for offset, k in enumerate(keys):
                self._index[k] = start + offset
