"""The joblog ("Dine søgte job") and saved jobs: the only module of this feature that touches
collections."""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from store import collections as c
from store.indexes import IndexSpec
from store.queries import newest_first_page

INDEXES: list[IndexSpec] = [
    IndexSpec(c.JOBLOG, (("citizenId", 1), ("appliedOn", -1)), "joblog_citizen_applied"),
    IndexSpec(c.JOBLOG, (("citizenId", 1), ("postingId", 1)), "joblog_citizen_posting"),
    IndexSpec(c.SAVED_JOBS, (("citizenId", 1), ("savedAt", -1)), "saved_jobs_citizen_saved"),
]


async def insert_entry(db: AsyncDatabase, doc: dict, session: Any = None) -> bool:
    """False when an entry with this id exists (automatic entries have fixed ids)."""
    # Inside a transaction a duplicate-key error would abort it, so look first there.
    if session is not None and await db[c.JOBLOG].find_one({"_id": doc["_id"]}, session=session):
        return False
    try:
        await db[c.JOBLOG].insert_one(doc, session=session)
    except DuplicateKeyError:
        return False
    return True


async def get_entry(db: AsyncDatabase, citizen_id: str, entry_id: str) -> dict | None:
    return await db[c.JOBLOG].find_one({"_id": entry_id, "citizenId": citizen_id})


async def update_entry(db: AsyncDatabase, citizen_id: str, entry_id: str, fields: dict):
    return await db[c.JOBLOG].find_one_and_update(
        {"_id": entry_id, "citizenId": citizen_id}, {"$set": fields}, return_document=True
    )


async def delete_entry(db: AsyncDatabase, citizen_id: str, entry_id: str) -> bool:
    result = await db[c.JOBLOG].delete_one({"_id": entry_id, "citizenId": citizen_id})
    return result.deleted_count == 1


async def entries_page(db: AsyncDatabase, citizen_id: str, first: int, after) -> list[dict]:
    return await newest_first_page(
        db, c.JOBLOG, {"citizenId": citizen_id}, "appliedOn", first, after
    )


async def applied_posting_ids(db: AsyncDatabase, citizen_id: str) -> set[str]:
    cursor = db[c.JOBLOG].find(
        {"citizenId": citizen_id, "postingId": {"$type": "string"}}, {"postingId": 1}
    )
    return {d["postingId"] async for d in cursor}


async def save_job(db: AsyncDatabase, doc: dict) -> dict:
    """Idempotent: saving a saved job keeps the first save."""
    await db[c.SAVED_JOBS].update_one({"_id": doc["_id"]}, {"$setOnInsert": doc}, upsert=True)
    return await db[c.SAVED_JOBS].find_one({"_id": doc["_id"]})


async def unsave_job(db: AsyncDatabase, citizen_id: str, posting_id: str) -> bool:
    result = await db[c.SAVED_JOBS].delete_one({"_id": f"{citizen_id}:{posting_id}"})
    return result.deleted_count == 1


async def count_saved(db: AsyncDatabase, citizen_id: str) -> int:
    return await db[c.SAVED_JOBS].count_documents({"citizenId": citizen_id})


async def saved_page(db: AsyncDatabase, citizen_id: str, first: int, after) -> list[dict]:
    return await newest_first_page(
        db, c.SAVED_JOBS, {"citizenId": citizen_id}, "savedAt", first, after
    )
