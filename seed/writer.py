"""Bulk writes that make re-seeding idempotent without paying for upserts on a fresh database:
insert a batch unordered, then replace only the documents whose ids already existed."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from itertools import islice

from pymongo import ReplaceOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError

DUPLICATE_KEY = 11000


def batched(items: Iterable[dict], size: int) -> Iterator[list[dict]]:
    it = iter(items)
    while batch := list(islice(it, size)):
        yield batch


async def write_batch(collection: AsyncCollection, docs: list[dict]) -> None:
    try:
        await collection.insert_many(docs, ordered=False)
        return
    except BulkWriteError as e:
        errors = e.details.get("writeErrors", [])
        other = [err for err in errors if err.get("code") != DUPLICATE_KEY]
        if other:
            raise
        existing = [docs[err["index"]] for err in errors]
    await collection.bulk_write(
        [ReplaceOne({"_id": d["_id"]}, d, upsert=True) for d in existing], ordered=False
    )


async def write_all(
    collection: AsyncCollection,
    docs: Iterable[dict],
    *,
    batch_size: int = 1000,
    on_batch: Callable[[int], None] | None = None,
) -> int:
    written = 0
    for batch in batched(docs, batch_size):
        await write_batch(collection, batch)
        written += len(batch)
        if on_batch:
            on_batch(len(batch))
    return written
