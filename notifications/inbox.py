"""The inbox (Postkasse): every notification is stored for its recipient first, then queued in
the outbox for push. Both are written in one call (inside the caller's transaction when one is
given), keyed by an idempotency key, so the same event never notifies twice.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from store import collections as c
from store.indexes import IndexSpec

from . import outbox

INDEXES: list[IndexSpec] = [
    IndexSpec(c.INBOX, (("recipientId", 1), ("createdAt", -1)), "inbox_recipient_created"),
    IndexSpec(c.INBOX, (("recipientId", 1), ("key", 1)), "inbox_recipient_key", unique=True),
    IndexSpec(c.INBOX, (("key", 1),), "inbox_key"),
]


@dataclass(frozen=True)
class Text:
    """A notification's words in Danish and English; the recipient's locale picks one."""

    title_da: str
    body_da: str
    title_en: str
    body_en: str

    def pick(self, locale: str) -> tuple[str, str]:
        if locale == "en":
            return self.title_en, self.body_en
        return self.title_da, self.body_da


async def notify(
    db: AsyncDatabase,
    *,
    recipient_id: str,
    recipient_role: str,
    category: str,
    key: str,
    text: Text,
    locale: str = "da",
    route: str | None = None,
    payload_type: str = "news",
    critical: bool = False,
    session: Any = None,
    now: datetime | None = None,
    due_at: datetime | None = None,
) -> bool:
    """Store the notification in the recipient's inbox and queue its push. False when a
    notification with this key was already made (nothing is written twice)."""
    now = now or datetime.now(UTC)
    title, body = text.pick(locale)
    entry_id = uuid.uuid4().hex
    # Checked first because a duplicate-key error would abort the caller's transaction; the
    # unique index still settles a race between two callers without one.
    existing = await db[c.INBOX].find_one(
        {"recipientId": recipient_id, "key": key}, {"_id": 1}, session=session
    )
    if existing is not None:
        return False
    try:
        await db[c.INBOX].insert_one(
            {
                "_id": entry_id,
                "recipientId": recipient_id,
                "recipientRole": recipient_role,
                "key": key,
                "category": category,
                "title": title,
                "body": body,
                "route": route,
                "locale": locale,
                "createdAt": now,
                "readAt": None,
            },
            session=session,
        )
    except DuplicateKeyError:
        return False
    await outbox.enqueue(
        db,
        {
            "_id": entry_id,
            "inboxId": entry_id,
            "recipientId": recipient_id,
            "recipientRole": recipient_role,
            "category": category,
            "payloadType": payload_type,
            "critical": critical,
            "key": key,
            "title": title,
            "body": body,
            "route": route,
            "locale": locale,
        },
        due_at=due_at or now,
        now=now,
        session=session,
    )
    return True


# --- reading the inbox -------------------------------------------------------------------------
async def page(
    db: AsyncDatabase, user_id: str, first: int, after: tuple | None, unread_only: bool
) -> list[dict]:
    from store.queries import newest_first_page

    query: dict[str, Any] = {"recipientId": user_id}
    if unread_only:
        query["readAt"] = None
    return await newest_first_page(db, c.INBOX, query, "createdAt", first, after)


async def unread_count(db: AsyncDatabase, user_id: str) -> int:
    return await db[c.INBOX].count_documents({"recipientId": user_id, "readAt": None})


async def mark_read(db: AsyncDatabase, user_id: str, entry_id: str) -> dict | None:
    await db[c.INBOX].update_one(
        {"_id": entry_id, "recipientId": user_id, "readAt": None},
        {"$set": {"readAt": datetime.now(UTC)}},
    )
    return await db[c.INBOX].find_one({"_id": entry_id, "recipientId": user_id})


async def mark_all_read(db: AsyncDatabase, user_id: str) -> int:
    result = await db[c.INBOX].update_many(
        {"recipientId": user_id, "readAt": None}, {"$set": {"readAt": datetime.now(UTC)}}
    )
    return result.modified_count


async def newer_than(db: AsyncDatabase, user_id: str, since: datetime, limit: int) -> list[dict]:
    """The user's inbox entries created at or after ``since``, oldest first."""
    cursor = db[c.INBOX].find({"recipientId": user_id, "createdAt": {"$gte": since}})
    return await cursor.sort("createdAt", 1).limit(limit).to_list()


async def retract(db: AsyncDatabase, key: str, *, session: Any = None) -> int:
    """Take back the notifications made under ``key`` whose cause was undone: they leave the
    inboxes, and pushes not yet sent are dropped (one already delivered cannot be recalled)."""
    cursor = db[c.INBOX].find({"key": key}, {"_id": 1}, session=session)
    ids = [d["_id"] async for d in cursor]
    if not ids:
        return 0
    await db[c.INBOX].delete_many({"_id": {"$in": ids}}, session=session)
    await outbox.drop_unsent(db, ids, session=session)
    return len(ids)


async def any_one(db: AsyncDatabase) -> dict | None:
    """Some document (benchmark set-up copies it)."""
    return await db[c.INBOX].find_one({})


async def insert_bulk(db: AsyncDatabase, docs: list[dict]) -> None:
    """Write ready-made documents at once (benchmark set-up; the app writes one by one)."""
    if docs:
        await db[c.INBOX].insert_many(docs)
