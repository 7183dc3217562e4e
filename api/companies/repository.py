"""Companies and the employer users who act for them: the only module that touches the
companies and employers collections."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from store import collections as c
from store.indexes import IndexSpec
from store.queries import find_by_ids

# Companies and employers are read by _id, which every collection indexes already; the
# employers of a company need the CVR index.
INDEXES: list[IndexSpec] = [
    IndexSpec(c.EMPLOYERS, (("cvr", 1),), "employers_cvr"),
]


# --- companies ------------------------------------------------------------------------------
async def upsert_company(db: AsyncDatabase, cvr: str, fields: dict, now: datetime) -> dict:
    await db[c.COMPANIES].update_one(
        {"_id": cvr}, {"$set": fields, "$setOnInsert": {"createdAt": now}}, upsert=True
    )
    return await db[c.COMPANIES].find_one({"_id": cvr})


async def note_employer(
    db: AsyncDatabase, employer_id: str, cvr: str, locale: str, now: datetime
) -> None:
    """The employer user acting for ``cvr`` (kept in step when the account's company changes)."""
    await db[c.EMPLOYERS].update_one(
        {"_id": employer_id},
        {"$set": {"cvr": cvr}, "$setOnInsert": {"locale": locale, "createdAt": now}},
        upsert=True,
    )


async def get_company(db: AsyncDatabase, cvr: str) -> dict | None:
    return await db[c.COMPANIES].find_one({"_id": cvr})


async def companies_by_cvr(db: AsyncDatabase, cvrs: Sequence[str]) -> list[dict[str, Any] | None]:
    """Name, industry and town of each company, in the order asked (None where unknown)."""
    return await find_by_ids(db, c.COMPANIES, cvrs, {"name": 1, "industry": 1, "town": 1})


# --- employer users ---------------------------------------------------------------------------
async def employers_by_id(db: AsyncDatabase, ids: Sequence[str]) -> list[dict[str, Any] | None]:
    return await find_by_ids(db, c.EMPLOYERS, ids, {"firstName": 1, "lastName": 1, "cvr": 1})


async def first_employers(db: AsyncDatabase, cvrs: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Each company's first employer user (the one who signed up first), by CVR; companies
    without one are absent."""
    cursor = db[c.EMPLOYERS].find({"cvr": {"$in": list(cvrs)}}).sort([("createdAt", 1)])
    first: dict[str, dict[str, Any]] = {}
    async for doc in cursor:
        first.setdefault(doc["cvr"], doc)
    return first


async def employer_locales(
    db: AsyncDatabase, cvr: str, session: Any = None
) -> list[tuple[str, str]]:
    """(id, locale) of every employer user acting for the company: who hears of its events."""
    cursor = db[c.EMPLOYERS].find({"cvr": cvr}, {"locale": 1}, session=session)
    return [(d["_id"], d.get("locale") or "da") async for d in cursor]
