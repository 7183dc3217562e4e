"""Company documents: the only module of this feature that touches collections."""

from __future__ import annotations

from datetime import datetime

from store import collections as c


async def upsert_company(db, cvr: str, fields: dict, now: datetime) -> dict:
    await db[c.COMPANIES].update_one(
        {"_id": cvr}, {"$set": fields, "$setOnInsert": {"createdAt": now}}, upsert=True
    )
    return await db[c.COMPANIES].find_one({"_id": cvr})


async def get_company(db, cvr: str) -> dict | None:
    return await db[c.COMPANIES].find_one({"_id": cvr})
