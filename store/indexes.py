"""Index definitions are declared next to each repository as ``IndexSpec`` lists and created
idempotently at start-up. Every query the app runs must be served by one of them: the embedded
server scans unindexed collections slowly, and so does a large MongoDB."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pymongo import IndexModel
from pymongo.asynchronous.database import AsyncDatabase

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IndexSpec:
    collection: str
    keys: tuple[tuple[str, int], ...]
    name: str
    unique: bool = False
    options: dict[str, Any] = field(default_factory=dict)

    def model(self) -> IndexModel:
        return IndexModel(list(self.keys), name=self.name, unique=self.unique, **self.options)


async def ensure_indexes(db: AsyncDatabase, specs: Iterable[IndexSpec]) -> int:
    """Create the declared indexes; existing identical ones are left alone (idempotent)."""
    by_collection: dict[str, list[IndexSpec]] = {}
    for spec in specs:
        by_collection.setdefault(spec.collection, []).append(spec)
    created = 0
    for collection, group in by_collection.items():
        await db[collection].create_indexes([s.model() for s in group])
        created += len(group)
    log.info("indexes ensured", extra={"index_count": created})
    return created
