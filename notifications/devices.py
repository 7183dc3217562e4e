"""Devices that receive pushes, one registration per FCM token, bound to its owner.

A registration records the Firebase installation ID (FID) of the app installation that sent
it. The FID identifies one installation of the app on one phone (it changes on reinstall and
never moves between phones), and an FCM token is issued for exactly one installation. So:

* The same user registering the token again refreshes it (``lastSeenAt``).
* Another user may take the token over only from the same installation: the previous user
  signed out on that phone without unregistering, so the phone is now the new user's. The
  previous owner's registration is removed with it.
* Any other attempt to register a token that belongs to someone else changes nothing and is
  refused (``TokenTaken``): otherwise one user could divert another's pushes to themselves.
* An installation has one registration: once a token is registered from it, the older
  registrations of that installation (an FCM token rotated, a previous user's) are removed.

Tokens not seen for 270 days, or answered UNREGISTERED / invalid by FCM, are removed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from store import collections as c
from store.indexes import IndexSpec

INDEXES: list[IndexSpec] = [
    IndexSpec(c.DEVICES, (("userId", 1), ("lastSeenAt", -1)), "devices_user"),
    IndexSpec(c.DEVICES, (("lastSeenAt", 1),), "devices_last_seen"),
    IndexSpec(c.DEVICES, (("installationId", 1),), "devices_installation"),
]

PLATFORMS = ("IOS", "ANDROID", "WEB")
STALE_AFTER = timedelta(days=270)
MAX_DEVICES = 10  # per user; the least recently seen go first


class TokenTaken(Exception):
    """The token is registered to another user from another installation (or from one this
    server cannot tell): nothing was changed."""


async def register(
    db: AsyncDatabase,
    *,
    user_id: str,
    role: str,
    token: str,
    platform: str,
    app_version: str,
    locale: str,
    installation_id: str | None = None,
    now: datetime | None = None,
) -> dict:
    """Register or refresh ``token`` for ``user_id`` (see the module text). Raises
    ``TokenTaken`` when the token belongs to another user and ``installation_id`` does not
    prove the same installation. Without an installation id (internal callers) a token can
    neither move nor be taken over."""
    now = now or datetime.now(UTC)
    owner: dict = {"userId": user_id}
    mine_or_same_installation = (
        [owner, {"installationId": installation_id}] if installation_id else [owner]
    )
    fields = {
        "userId": user_id,
        "role": role,
        "platform": platform,
        "appVersion": app_version,
        "locale": locale,
        "lastSeenAt": now,
    }
    if installation_id:
        fields["installationId"] = installation_id
    # One atomic step: it matches only the caller's own registration or one from the same
    # installation; anyone else's makes the upsert's insert collide with the token (_id). A
    # collision can also be two first registrations of the same token racing: the second try
    # then finds the first one's document, and matches it when it is the caller's.
    for attempt in range(2):
        try:
            before = await db[c.DEVICES].find_one_and_update(
                {"_id": token, "$or": mine_or_same_installation},
                {"$set": fields, "$setOnInsert": {"createdAt": now}},
                upsert=True,
                return_document=ReturnDocument.BEFORE,
            )
            break
        except DuplicateKeyError:
            if attempt:
                raise TokenTaken() from None
    doc = {"_id": token, "createdAt": now, **(before or {}), **fields}
    if before is not None and before.get("userId") != user_id:
        # Taken over on the same installation: a new registration, the previous owner's gone.
        await db[c.DEVICES].update_one({"_id": token}, {"$set": {"createdAt": now}})
        doc["createdAt"] = now
    if installation_id:
        await db[c.DEVICES].delete_many({"installationId": installation_id, "_id": {"$ne": token}})
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
    # A batch's devices in one reply (the default first batch is 101 documents, then getMores).
    cursor = db[c.DEVICES].find({"userId": {"$in": list(user_ids)}},
                                batch_size=len(user_ids) * MAX_DEVICES + 1)  # fmt: skip
    async for d in cursor:
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


async def any_one(db: AsyncDatabase) -> dict | None:
    """Some document (benchmark set-up copies it)."""
    return await db[c.DEVICES].find_one({})


async def insert_bulk(db: AsyncDatabase, docs: list[dict]) -> None:
    """Write ready-made documents at once (benchmark set-up; the app writes one by one)."""
    if docs:
        await db[c.DEVICES].insert_many(docs)
