"""Citizen profiles, CV variants and the consent history: the only module of this feature that
touches collections."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import numpy as np
from pymongo.asynchronous.database import AsyncDatabase

from matching import profiles
from store import collections as c
from store.indexes import IndexSpec
from store.queries import find_by_ids, newest_first_page

INDEXES: list[IndexSpec] = [
    IndexSpec(c.CVS, (("citizenId", 1), ("primary", -1)), "cvs_citizen_primary"),
    IndexSpec(c.CONSENT_EVENTS, (("citizenId", 1), ("at", -1)), "consent_events_citizen_at"),
]


async def get_citizen(db: AsyncDatabase, citizen_id: str, session: Any = None) -> dict | None:
    return await db[c.CITIZENS].find_one({"_id": citizen_id}, session=session)


async def some_citizen_ids(db: AsyncDatabase, limit: int) -> list[str]:
    """Ids of up to ``limit`` citizens, for operators' benchmarks on a scratch database."""
    return [d["_id"] async for d in db[c.CITIZENS].find({}, {"_id": 1}).limit(limit)]


async def insert_citizen(db: AsyncDatabase, doc: dict, session: Any) -> None:
    await db[c.CITIZENS].insert_one(doc, session=session)


async def insert_citizens(db: AsyncDatabase, docs: list[dict]) -> None:
    """Many at once (benchmarks' scratch databases)."""
    await db[c.CITIZENS].insert_many(docs)


async def update_citizen(
    db: AsyncDatabase, citizen_id: str, fields: dict, session: Any = None
) -> dict | None:
    return await db[c.CITIZENS].find_one_and_update(
        {"_id": citizen_id}, {"$set": fields}, session=session, return_document=True
    )


async def update_citizen_raw(
    db: AsyncDatabase, citizen_id: str, update: dict, only_if: dict | None = None
) -> dict | None:
    """Apply ``update``; with ``only_if``, only while the document also matches it (None
    when it does not, or the citizen is gone)."""
    return await db[c.CITIZENS].find_one_and_update(
        {"_id": citizen_id, **(only_if or {})}, update, return_document=True
    )


async def citizens_by_ids(db: AsyncDatabase, ids: list[str]) -> list[dict | None]:
    return await find_by_ids(db, c.CITIZENS, ids)


async def primary_cvs(db: AsyncDatabase, citizen_ids: list[str]) -> list[dict]:
    cursor = db[c.CVS].find({"citizenId": {"$in": citizen_ids}, "primary": True})
    return await cursor.to_list()


async def profile_vectors(db: AsyncDatabase, citizen_ids: list[str]) -> dict[str, np.ndarray]:
    """Stored profile embeddings (only citizens with profiling on have one); matching owns
    them (``matching.profiles``)."""
    return await profiles.stored_vectors(db, citizen_ids)


# --- CVs ------------------------------------------------------------------------------------
async def primary_cv(db: AsyncDatabase, citizen_id: str, session: Any = None) -> dict | None:
    return await db[c.CVS].find_one({"citizenId": citizen_id, "primary": True}, session=session)


async def cvs_of(db: AsyncDatabase, citizen_id: str, session: Any = None) -> list[dict]:
    cursor = db[c.CVS].find({"citizenId": citizen_id}, session=session)
    docs = await cursor.to_list()
    # The primary first, then the most recently changed.
    docs.sort(key=lambda d: d["updatedAt"], reverse=True)
    docs.sort(key=lambda d: not d.get("primary"))
    return docs


async def get_cv(db: AsyncDatabase, citizen_id: str, cv_id: str, session: Any = None):
    return await db[c.CVS].find_one({"_id": cv_id, "citizenId": citizen_id}, session=session)


async def insert_cv(db: AsyncDatabase, doc: dict, session: Any) -> None:
    await db[c.CVS].insert_one(doc, session=session)


async def replace_cv(db: AsyncDatabase, doc: dict, session: Any) -> bool:
    result = await db[c.CVS].replace_one(
        {"_id": doc["_id"], "citizenId": doc["citizenId"]}, doc, session=session
    )
    return result.matched_count == 1


async def delete_cv(db: AsyncDatabase, citizen_id: str, cv_id: str, session: Any) -> bool:
    result = await db[c.CVS].delete_one({"_id": cv_id, "citizenId": citizen_id}, session=session)
    return result.deleted_count == 1


async def set_primary(
    db: AsyncDatabase, citizen_id: str, cv_id: str, now: datetime, session: Any
) -> None:
    await db[c.CVS].update_many(
        {"citizenId": citizen_id, "primary": True, "_id": {"$ne": cv_id}},
        {"$set": {"primary": False}},
        session=session,
    )
    await db[c.CVS].update_one(
        {"_id": cv_id, "citizenId": citizen_id},
        {"$set": {"primary": True, "updatedAt": now}},
        session=session,
    )


# --- consent history --------------------------------------------------------------------------
async def insert_consent_events(db: AsyncDatabase, events: list[dict], session: Any) -> None:
    if events:
        await db[c.CONSENT_EVENTS].insert_many(events, session=session)


async def consent_events_page(
    db: AsyncDatabase, citizen_id: str, first: int, after: tuple | None
) -> list[dict]:
    return await newest_first_page(
        db, c.CONSENT_EVENTS, {"citizenId": citizen_id}, "at", first, after
    )


# --- for the notifications (through api.directory) ------------------------------------------
async def locales_of(
    db: AsyncDatabase, citizen_ids: Sequence[str], session: Any = None
) -> dict[str, str]:
    cursor = db[c.CITIZENS].find(
        {"_id": {"$in": list(citizen_ids)}}, {"locale": 1}, session=session
    )
    return {d["_id"]: d.get("locale") or "da" async for d in cursor}


async def push_consents_of(db: AsyncDatabase, ids: Sequence[str]) -> dict[str, dict[str, bool]]:
    cursor = db[c.CITIZENS].find({"_id": {"$in": list(ids)}}, {"consents.push": 1})
    return {d["_id"]: (d.get("consents") or {}).get("push", {}) async for d in cursor}


async def all_citizens_except(db: AsyncDatabase, skip: set[str]) -> list[dict]:
    # A full scan with a set check: $nin with a long list is slow on the embedded server.
    return [d async for d in db[c.CITIZENS].find({}) if d["_id"] not in skip]


async def blocked_companies_by_citizen(db: AsyncDatabase) -> dict[str, set[str]]:
    """Every citizen's id with the companies (CVRs) they blocked (load benchmark set-up)."""
    return {
        d["_id"]: set(d.get("blockedCompanies") or [])
        async for d in db[c.CITIZENS].find({}, {"blockedCompanies": 1})
    }
