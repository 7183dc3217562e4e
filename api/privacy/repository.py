"""The CV view log, and the register-driven reads and erasure over every collection that holds
a citizen's data (``store.personal_data``)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from store import collections as c
from store.indexes import IndexSpec
from store.personal_data import HOLDINGS, Erasure, Holding
from store.queries import newest_first_page

INDEXES: list[IndexSpec] = [
    IndexSpec(c.CV_VIEWS, (("citizenId", 1), ("viewedAt", -1)), "cv_views_citizen_viewed"),
]


# --- CV view log ------------------------------------------------------------------------------
async def record_view(db: AsyncDatabase, doc: dict, session: Any = None) -> None:
    await db[c.CV_VIEWS].insert_one(doc, session=session)


async def views_page(db: AsyncDatabase, citizen_id: str, first: int, after) -> list[dict]:
    return await newest_first_page(
        db, c.CV_VIEWS, {"citizenId": citizen_id}, "viewedAt", first, after
    )


# --- everything held --------------------------------------------------------------------------
async def count_held(db: AsyncDatabase, holding: Holding, citizen_id: str) -> int:
    return await db[holding.collection].count_documents({holding.owner: citizen_id})


async def documents_held(db: AsyncDatabase, holding: Holding, citizen_id: str) -> list[dict]:
    cursor = db[holding.collection].find({holding.owner: citizen_id}).sort("_id", 1)
    return await cursor.to_list()


async def erase_holdings(
    db: AsyncDatabase, citizen_id: str, now: datetime, session: Any
) -> dict[str, int]:
    """Delete or anonymise the citizen's documents in every registered collection; returns how
    many documents each collection had."""
    touched: dict[str, int] = {}
    for holding in HOLDINGS:
        query = {holding.owner: citizen_id}
        if holding.erasure is Erasure.DELETE:
            result = await db[holding.collection].delete_many(query, session=session)
            touched[holding.collection] = result.deleted_count
            continue
        docs = await db[holding.collection].find(query, session=session).to_list()
        for doc in docs:
            kept = {k: doc[k] for k in holding.keep_on_anonymise if k in doc}
            # A fresh random token per document: it keeps unique indexes apart and links to
            # nothing, not even to the citizen's other anonymised documents.
            kept[holding.owner] = f"anonym-{uuid.uuid4().hex}"
            kept["anonymisedAt"] = now
            await db[holding.collection].replace_one({"_id": doc["_id"]}, kept, session=session)
        touched[holding.collection] = len(docs)
    return touched


async def count_deletion(db: AsyncDatabase, month: str, session: Any) -> None:
    await db[c.ANONYMOUS_STATS].update_one(
        {"_id": f"account-deletions:{month}"},
        {"$inc": {"count": 1}, "$setOnInsert": {"kind": "account-deletions", "month": month}},
        upsert=True,
        session=session,
    )
