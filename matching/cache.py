"""A content-hash embedding cache on local disk.

Append-only: ``<model>.keys`` holds one hex hash per line and ``<model>.f32`` the matching
float32 rows. Loading reads both once; writes append under a file lock, so several processes
(API, worker, seeder) can share one cache directory. A torn last row (a crash mid-append) is
ignored on load.
"""

from __future__ import annotations

import fcntl
import re
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
        self._index: dict[str, int] = {}
        self._rows = np.zeros((0, dimension), dtype=np.float32)
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
        self._index = {k: i for i, k in enumerate(keys[:complete])}

    def __len__(self) -> int:
        return len(self._index)

    def get_many(self, keys: Sequence[str]) -> list[np.ndarray | None]:
        return [self._rows[i] if (i := self._index.get(k)) is not None else None for k in keys]

    def put_many(self, keys: Sequence[str], vectors: np.ndarray) -> None:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        with open(self.lock_path, "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            # Rows and keys are appended in this order: a crash leaves at worst keys without
            # rows, which _load drops.
            with open(self.rows_path, "ab") as rows:
                rows.write(vectors.tobytes())
            with open(self.keys_path, "a") as f:
                f.write("".join(f"{k}\n" for k in keys))
        start = len(self._rows)
        self._rows = np.vstack([self._rows, vectors])
        for offset, k in enumerate(keys):
            self._index[k] = start + offset
