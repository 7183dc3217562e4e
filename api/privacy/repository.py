"""The CV view log, the register-driven reads and erasure over every collection that holds a
citizen's data (``store.personal_data``), and the tombstones erasure leaves (``deleted_accounts``:
the only module that touches it)."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any, NotRequired, TypedDict

from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase

from store import collections as c
from store.indexes import IndexSpec
from store.personal_data import HOLDINGS, Erasure, Holding
from store.queries import newest_first_page

INDEXES: list[IndexSpec] = [
    IndexSpec(c.CV_VIEWS, (("citizenId", 1), ("viewedAt", -1)), "cv_views_citizen_viewed"),
    IndexSpec(c.DELETED_ACCOUNTS, (("deletedAt", 1),), "deleted_accounts_deleted"),
    IndexSpec(
        c.DELETED_ACCOUNTS, (("signIn", 1), ("nextAttemptAt", 1)), "deleted_accounts_sign_in_due"
    ),
]


class SignIn(StrEnum):
    """Where the deletion of an erased account's sign-in account (Firebase) stands."""

    PENDING = "PENDING"  # still to delete; retried with back-off
    DELETED = "DELETED"  # gone (or there was none: local dev tokens)


class DeletedAccountDoc(TypedDict):
    _id: str  # api.auth.erased.account_digest of the account id
    deletedAt: datetime
    signIn: str  # SignIn
    attempts: int  # sign-in deletions tried
    pendingUid: NotRequired[str]  # the account id, only while the sign-in account is PENDING
    nextAttemptAt: NotRequired[datetime]  # PENDING: when housekeeping tries again
    lastAttemptAt: NotRequired[datetime]
    lastError: NotRequired[str]  # the error's type, never its text (it may name the account)
    signInDeletedAt: NotRequired[datetime]  # DELETED: when


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


# --- tombstones of erased accounts ------------------------------------------------------------
async def insert_tombstone(db: AsyncDatabase, doc: DeletedAccountDoc, session: Any) -> bool:
    """Once per account: an erasure repeated (a double submit) leaves the first one. True when
    this one was the first."""
    fields = {k: v for k, v in doc.items() if k != "_id"}
    result = await db[c.DELETED_ACCOUNTS].update_one(
        {"_id": doc["_id"]}, {"$setOnInsert": fields}, upsert=True, session=session
    )
    return result.upserted_id is not None


async def is_tombstoned(db: AsyncDatabase, digest: str, session: Any = None) -> bool:
    found = await db[c.DELETED_ACCOUNTS].find_one({"_id": digest}, {"_id": 1}, session=session)
    return found is not None


async def tombstones_since(db: AsyncDatabase, since: datetime | None) -> list[str]:
    """The digests of accounts erased at or after ``since`` (all of them for None)."""
    query = {} if since is None else {"deletedAt": {"$gte": since}}
    return [d["_id"] async for d in db[c.DELETED_ACCOUNTS].find(query, {"_id": 1})]


async def get_tombstone(db: AsyncDatabase, digest: str) -> DeletedAccountDoc | None:
    return await db[c.DELETED_ACCOUNTS].find_one({"_id": digest})


async def claim_sign_in_deletion(
    db: AsyncDatabase, now: datetime, lease_until: datetime
) -> DeletedAccountDoc | None:
    """The longest-waiting sign-in deletion that is due, held until ``lease_until`` so another
    instance does not try it at the same time."""
    return await db[c.DELETED_ACCOUNTS].find_one_and_update(
        {"signIn": SignIn.PENDING, "nextAttemptAt": {"$lte": now}},
        {"$set": {"nextAttemptAt": lease_until}},
        sort=[("nextAttemptAt", 1)],
        return_document=ReturnDocument.AFTER,
    )


async def sign_in_deleted(db: AsyncDatabase, digest: str, attempts: int, at: datetime) -> None:
    """The sign-in account is gone: its id goes too; only when it happened stays."""
    await db[c.DELETED_ACCOUNTS].update_one(
        {"_id": digest},
        {
            "$set": {"signIn": SignIn.DELETED, "signInDeletedAt": at, "attempts": attempts,
                     "lastAttemptAt": at},
            "$unset": {"pendingUid": "", "nextAttemptAt": "", "lastError": ""},
        },
    )  # fmt: skip


async def sign_in_deletion_failed(
    db: AsyncDatabase, digest: str, attempts: int, at: datetime, retry_at: datetime, error: str
) -> None:
    await db[c.DELETED_ACCOUNTS].update_one(
        {"_id": digest, "signIn": SignIn.PENDING},
        {"$set": {"attempts": attempts, "lastAttemptAt": at, "nextAttemptAt": retry_at,
                  "lastError": error}},
    )  # fmt: skip
