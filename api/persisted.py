"""Persisted operations: the app may send only ``extensions.persistedQuery.sha256Hash`` for an
operation listed in ``mobile_contract/persisted-queries.json`` (generated from
``mobile_contract/operations/``). In production the server can be told to accept only those."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from core.settings import PROJECT_ROOT

CONTRACT_DIR = PROJECT_ROOT / "mobile_contract"
MANIFEST_PATH = CONTRACT_DIR / "persisted-queries.json"


def sha256_hex(document: str) -> str:
    return hashlib.sha256(document.encode("utf-8")).hexdigest()


class PersistedQueries:
    def __init__(self, documents_by_hash: dict[str, str]) -> None:
        self._by_hash = dict(documents_by_hash)

    @classmethod
    def load(cls, path: Path = MANIFEST_PATH) -> PersistedQueries:
        if not path.exists():
            return cls({})
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls({entry["sha256"]: entry["document"] for entry in data["operations"]})

    def get(self, sha256: str) -> str | None:
        return self._by_hash.get(sha256)

    def knows(self, document: str) -> bool:
        return sha256_hex(document) in self._by_hash

    def __len__(self) -> int:
        return len(self._by_hash)
