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


async def newest_first_page(
    db: AsyncDatabase,
    collection: str,
    query: Mapping[str, Any],
    sort_field: str,
    first: int,
    after: tuple[Any, Any] | None = None,
) -> list[dict]:
    """Up to ``first + 1`` documents, newest ``sort_field`` first (ties by _id), after the
    (sort value, _id) key of the last one seen. The extra document tells whether more exist.
    Needs an index on the owner field followed by ``sort_field``."""
    q = dict(query)
    if after is not None:
        value, last_id = after
        q["$or"] = [
            {sort_field: {"$lt": value}},
            {sort_field: value, "_id": {"$lt": last_id}},
        ]
    cursor = db[collection].find(q).sort([(sort_field, -1), ("_id", -1)]).limit(first + 1)
    return await cursor.to_list()
