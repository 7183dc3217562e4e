"""Job postings. Queries arrive with the jobs and matching features; the indexes they need are
declared here so the seeded collections are indexed from the start."""

from __future__ import annotations

from store import collections as c
from store.indexes import IndexSpec
from store.queries import find_by_ids

INDEXES: list[IndexSpec] = [
    IndexSpec(c.POSTINGS, (("companyCvr", 1), ("postedAt", -1)), "postings_company_posted"),
    IndexSpec(c.POSTINGS, (("occupationId", 1),), "postings_occupation"),
    IndexSpec(c.POSTINGS, (("iscoCode", 1),), "postings_isco_code"),
    IndexSpec(c.POSTINGS, (("status", 1), ("deadline", 1)), "postings_status_deadline"),
    # the job agent's new postings since its last run
    IndexSpec(c.POSTINGS, (("postedAt", 1),), "postings_posted"),
]


async def postings_by_ids(db, ids) -> list[dict | None]:
    # Whole documents: a posting is a few kB, and saved jobs and the joblog build full cards.
    return await find_by_ids(db, c.POSTINGS, ids)


async def get_posting(db, posting_id: str) -> dict | None:
    return await db[c.POSTINGS].find_one({"_id": posting_id})


FEEDBACK_INDEXES: list[IndexSpec] = [
    IndexSpec(c.JOB_FEEDBACK, (("citizenId", 1), ("createdAt", -1)), "job_feedback_citizen"),
]


async def save_feedback(db, doc: dict) -> dict:
    """One answer per citizen and posting (the id says so); a new answer replaces the old."""
    await db[c.JOB_FEEDBACK].replace_one({"_id": doc["_id"]}, doc, upsert=True)
    return doc


async def delete_feedback(db, citizen_id: str, posting_id: str) -> bool:
    result = await db[c.JOB_FEEDBACK].delete_one({"_id": f"{citizen_id}:{posting_id}"})
    return result.deleted_count == 1


async def feedback_of(db, citizen_id: str, limit: int = 2000) -> list[dict]:
    cursor = db[c.JOB_FEEDBACK].find({"citizenId": citizen_id}).sort("createdAt", -1).limit(limit)
    return await cursor.to_list()


EMPLOYER_INDEXES: list[IndexSpec] = [
    IndexSpec(c.POSTINGS, (("updatedAt", 1),), "postings_updated"),
]


async def insert_posting(db, doc: dict) -> None:
    await db[c.POSTINGS].insert_one(doc)


async def update_posting(db, posting_id: str, cvr: str, query: dict, fields: dict):
    return await db[c.POSTINGS].find_one_and_update(
        {"_id": posting_id, "companyCvr": cvr, **query},
        {"$set": fields},
        return_document=True,
    )


async def postings_of_company(db, cvr: str, statuses: list[str]) -> list[dict]:
    query: dict = {"companyCvr": cvr}
    if statuses:
        query["status"] = {"$in": statuses}
    cursor = db[c.POSTINGS].find(query).sort([("postedAt", -1), ("_id", -1)])
    return await cursor.to_list(500)


async def expire_postings(db, now) -> list[str]:
    """Open postings past their deadline become EXPIRED; returns their ids."""
    cursor = db[c.POSTINGS].find({"status": "OPEN", "deadline": {"$lt": now}}, {"_id": 1})
    ids = [d["_id"] async for d in cursor]
    if ids:
        await db[c.POSTINGS].update_many(
            {"_id": {"$in": ids}, "status": "OPEN"},
            {"$set": {"status": "EXPIRED", "updatedAt": now}},
        )
    return ids


CHANGED_PAGE = 5000


async def postings_changed_since(db, since) -> list[dict]:
    """The oldest CHANGED_PAGE postings changed after ``since``, oldest first."""
    cursor = db[c.POSTINGS].find({"updatedAt": {"$gt": since}}).sort("updatedAt", 1)
    return await cursor.to_list(CHANGED_PAGE)


async def open_postings_for_matching(db, now) -> list[dict]:
    """The open postings not past their deadline, for the matching engine to load (without the
    stored embedding field)."""
    query = {"status": "OPEN", "deadline": {"$gte": now}}
    return await db[c.POSTINGS].find(query, {"embedding": 0}).to_list()


async def postings_published(db, after, until) -> list[dict]:
    """Open postings published in (after, until] whose deadline has not passed (the job
    agent's new postings)."""
    query = {
        "postedAt": {"$gt": after, "$lte": until},
        "status": "OPEN",
        "deadline": {"$gt": until},
    }
    return await db[c.POSTINGS].find(query).to_list()
