"""Reads of account documents for the viewer. The only module here that touches collections."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from store import collections as c
from store.indexes import IndexSpec
from store.queries import find_by_ids

# Lookups here are by _id, which every collection indexes already; the employer -> company
# lookup needs the CVR index.
INDEXES: list[IndexSpec] = [
    IndexSpec(c.EMPLOYERS, (("cvr", 1),), "employers_cvr"),
]


async def companies_by_cvr(db: AsyncDatabase, cvrs: Sequence[str]) -> list[dict[str, Any] | None]:
    return await find_by_ids(db, c.COMPANIES, cvrs, {"name": 1, "industry": 1, "town": 1})


async def citizens_by_id(db: AsyncDatabase, ids: Sequence[str]) -> list[dict[str, Any] | None]:
    return await find_by_ids(db, c.CITIZENS, ids, {"firstName": 1, "lastName": 1, "locale": 1})


async def employers_by_id(db: AsyncDatabase, ids: Sequence[str]) -> list[dict[str, Any] | None]:
    return await find_by_ids(db, c.EMPLOYERS, ids, {"firstName": 1, "lastName": 1, "cvr": 1})
