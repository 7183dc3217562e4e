"""Devices that receive pushes. A token belongs to one device: registering it again (after a
sign-in on the same phone by someone else) moves it. Tokens not seen for 270 days, or answered
UNREGISTERED / invalid by FCM, are removed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from pymongo.asynchronous.database import AsyncDatabase

from store import collections as c
from store.indexes import IndexSpec

INDEXES: list[IndexSpec] = [
    IndexSpec(c.DEVICES, (("userId", 1), ("lastSeenAt", -1)), "devices_user"),
    IndexSpec(c.DEVICES, (("lastSeenAt", 1),), "devices_last_seen"),
]

PLATFORMS = ("IOS", "ANDROID", "WEB")
STALE_AFTER = timedelta(days=270)
MAX_DEVICES = 10  # per user; the least recently seen go first


async def register(
    db: AsyncDatabase,
    *,
    user_id: str,
    role: str,
    token: str,
    platform: str,
    app_version: str,
    locale: str,
    now: datetime | None = None,
) -> dict:
    now = now or datetime.now(UTC)
    doc = await db[c.DEVICES].find_one_and_update(
        {"_id": token},
        {
            "$set": {
                "userId": user_id,
                "role": role,
                "platform": platform,
                "appVersion": app_version,
                "locale": locale,
                "lastSeenAt": now,
            },
            "$setOnInsert": {"createdAt": now},
        },
        upsert=True,
        return_document=True,
    )
    # Keep the newest few: a user who reinstalls often must not collect dead tokens.
    cursor = db[c.DEVICES].find({"userId": user_id}, {"_id": 1}).sort("lastSeenAt", -1)
    extra = [d["_id"] async for d in cursor.skip(MAX_DEVICES)]
    if extra:
        await db[c.DEVICES].delete_many({"_id": {"$in": extra}})
    return doc


async def unregister(db: AsyncDatabase, user_id: str, token: str) -> bool:
    result = await db[c.DEVICES].delete_one({"_id": token, "userId": user_id})
    return result.deleted_count == 1


async def of_user(db: AsyncDatabase, user_id: str) -> list[dict]:
    cursor = db[c.DEVICES].find({"userId": user_id}).sort("lastSeenAt", -1)
    return await cursor.to_list()


async def of_users(db: AsyncDatabase, user_ids: Sequence[str]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    async for d in db[c.DEVICES].find({"userId": {"$in": list(user_ids)}}):
        out.setdefault(d["userId"], []).append(d)
    return out


async def remove_tokens(db: AsyncDatabase, tokens: Sequence[str]) -> int:
    if not tokens:
        return 0
    result = await db[c.DEVICES].delete_many({"_id": {"$in": list(tokens)}})
    return result.deleted_count


async def remove_stale(db: AsyncDatabase, now: datetime | None = None) -> int:
    now = now or datetime.now(UTC)
    result = await db[c.DEVICES].delete_many({"lastSeenAt": {"$lt": now - STALE_AFTER}})
    return result.deleted_count
