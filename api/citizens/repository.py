"""Citizen profiles and CVs. Queries arrive with the citizen feature; the indexes the seeded
collections need are declared here."""

from __future__ import annotations

from store import collections as c
from store.indexes import IndexSpec

INDEXES: list[IndexSpec] = [
    IndexSpec(c.CVS, (("citizenId", 1), ("primary", -1)), "cvs_citizen_primary"),
]


async def get_citizen(db, citizen_id: str) -> dict | None:
    return await db[c.CITIZENS].find_one({"_id": citizen_id})


async def primary_cv(db, citizen_id: str) -> dict | None:
    return await db[c.CVS].find_one({"citizenId": citizen_id, "primary": True})
