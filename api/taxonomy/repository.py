from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from store import collections as c
from store.indexes import IndexSpec
from store.queries import find_by_ids

INDEXES: list[IndexSpec] = [
    IndexSpec(c.OCCUPATIONS, (("iscoCode", 1),), "occupations_isco_code"),
    IndexSpec(c.OCCUPATIONS, (("iscoPath", 1), ("labelDa", 1), ("_id", 1)), "occupations_by_group"),
    IndexSpec(c.ISCO_GROUPS, (("parent", 1),), "isco_groups_parent"),
    IndexSpec(c.ISCO_GROUPS, (("level", 1),), "isco_groups_level"),
]


async def occupations_by_ids(db: AsyncDatabase, ids: Sequence[str]) -> list[dict | None]:
    return await find_by_ids(db, c.OCCUPATIONS, ids)


async def groups_by_codes(db: AsyncDatabase, codes: Sequence[str]) -> list[dict | None]:
    return await find_by_ids(db, c.ISCO_GROUPS, codes)


async def children_by_parents(db: AsyncDatabase, parents: Sequence[str]) -> list[list[dict]]:
    children: dict[str, list[dict]] = {p: [] for p in parents}
    async for d in db[c.ISCO_GROUPS].find({"parent": {"$in": list(parents)}}).sort("_id", 1):
        children[d["parent"]].append(d)
    return [children[p] for p in parents]


async def top_level_groups(db: AsyncDatabase) -> list[dict]:
    return await db[c.ISCO_GROUPS].find({"level": 1}).sort("_id", 1).to_list()


async def occupations_in_group(
    db: AsyncDatabase, code: str, first: int, after: list[Any] | None
) -> list[dict]:
    """One page of the group's occupations (any depth), by Danish label then id; one extra
    document tells whether there is a next page."""
    query: dict[str, Any] = {"iscoPath": code}
    if after is not None:
        label, oid = after
        query["$or"] = [{"labelDa": {"$gt": label}}, {"labelDa": label, "_id": {"$gt": oid}}]
    cursor = db[c.OCCUPATIONS].find(query).sort([("labelDa", 1), ("_id", 1)]).limit(first + 1)
    return await cursor.to_list()


async def existing_occupation_ids(db: AsyncDatabase, ids: Sequence[str]) -> set[str]:
    """Which of ``ids`` are known occupations (one query)."""
    if not ids:
        return set()
    cursor = db[c.OCCUPATIONS].find({"_id": {"$in": list(set(ids))}}, {"_id": 1})
    return {d["_id"] async for d in cursor}


async def occupations_for_matching(db: AsyncDatabase) -> list[dict]:
    """Every occupation with what the matching engine loads: labels, Danish alternative labels
    (title normalisation) and ISCO unit code."""
    fields = {"labelDa": 1, "labelEn": 1, "altLabelsDa": 1, "iscoCode": 1}
    return await db[c.OCCUPATIONS].find({}, fields).to_list()
