"""What stays of an erased account, and the deletion of its sign-in account.

Erasure writes a tombstone in its transaction (``repository.DeletedAccountDoc``): the account
id's one-way digest, so authentication refuses the account's tokens (``api.auth.erased``) and
nothing re-creates it, and, while the sign-in account (Firebase) is still to be deleted, the
account id with the next attempt's time. The sign-in account lives in another system, so its
deletion cannot join the transaction: the erasure tries once right after it, and housekeeping
tries again with back-off until it succeeds; each attempt and the success are recorded, and on
success the account id goes from the tombstone.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from api.auth.erased import ErasedAccounts, account_digest
from api.auth.verifier import SignInAccounts

from . import repository
from .repository import DeletedAccountDoc, SignIn

log = logging.getLogger(__name__)

ATTEMPT_TIMEOUT_S = 10.0  # an attempt that takes longer counts as failed (it may still land)
RETRY_FIRST = timedelta(minutes=1)  # after the first failure; doubling each time ...
RETRY_MAX = timedelta(hours=1)  # ... up to this, and never giving up
LEASE = timedelta(minutes=2)  # an instance trying a deletion holds it this long
# How far back each read of new tombstones reaches: covers erasures whose transaction
# committed after it began, and clocks of API instances a little apart.
SYNC_LOOKBACK = timedelta(minutes=10)


def tombstone(account_id: str, now: datetime) -> DeletedAccountDoc:
    """The erasure tries the sign-in deletion itself right away, so housekeeping's first
    retry waits a lease."""
    return DeletedAccountDoc(
        _id=account_digest(account_id),
        deletedAt=now,
        signIn=SignIn.PENDING,
        attempts=0,
        pendingUid=account_id,
        nextAttemptAt=now + LEASE,
    )


def retry_delay(attempts: int) -> timedelta:
    return min(RETRY_FIRST * 2 ** max(attempts - 1, 0), RETRY_MAX)


async def is_erased(db, account_id: str, session=None) -> bool:
    """Read from the database (the guard where an account would be created)."""
    return await repository.is_tombstoned(db, account_digest(account_id), session)


async def delete_sign_in_account(
    db, accounts: SignInAccounts, doc: DeletedAccountDoc, now: datetime
) -> bool:
    """One attempt, recorded; True when the sign-in account is gone."""
    attempts = doc.get("attempts", 0) + 1
    try:
        await asyncio.wait_for(accounts.delete_account(doc["pendingUid"]), ATTEMPT_TIMEOUT_S)
    except asyncio.CancelledError:
        raise
    except Exception as e:  # any failure of the other system: recorded and retried
        error = type(e).__name__
        await repository.sign_in_deletion_failed(
            db, doc["_id"], attempts, now, now + retry_delay(attempts), error
        )
        log.warning(
            "sign-in account deletion failed; will retry",
            extra={"tombstone": doc["_id"][:12], "attempts": attempts, "error": error},
        )
        return False
    await repository.sign_in_deleted(db, doc["_id"], attempts, now)
    return True


async def retry_sign_in_deletions(
    db, accounts: SignInAccounts, now: datetime, limit: int = 100
) -> int:
    """Try every sign-in deletion that is due (a housekeeping step); how many succeeded."""
    deleted = 0
    for _ in range(limit):
        doc = await repository.claim_sign_in_deletion(db, now, now + LEASE)
        if doc is None:
            break
        deleted += await delete_sign_in_account(db, accounts, doc, now)
    return deleted


async def sync_erased(db, sets: Sequence[ErasedAccounts]) -> int:
    """Bring this process's erased-account sets up to date with the tombstones: all of them
    for a set not loaded yet, else those since its last read (a housekeeping step). Returns
    how many were read."""
    if not sets:
        return 0
    started = datetime.now(UTC)  # the real clock: housekeeping's ``now`` may be made up
    if all(s.loaded and s.synced_at for s in sets):
        since = min(s.synced_at for s in sets if s.synced_at) - SYNC_LOOKBACK
    else:
        since = None
    digests = await repository.tombstones_since(db, since)
    for s in sets:
        s.add_digests(digests, started)
    return len(digests)
