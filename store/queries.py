"""Query shapes every repository needs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase


async def find_by_ids(
    db: AsyncDatabase,
    collection: str,
    ids: Sequence[Any],
    projection: Mapping[str, int] | None = None,
) -> list[dict | None]:
    """Documents by _id in the order asked (None where missing): the shape DataLoaders need."""
    found = {
        doc["_id"]: doc
        async for doc in db[collection].find({"_id": {"$in": list(ids)}}, projection)
    }
    return [found.get(i) for i in ids]
