"""Periodic work of every API instance: this instance learns the accounts erased through
another one (so their tokens are refused), the sign-in accounts erasure could not delete are
tried again, postings past their deadline leave the index, postings changed through another
instance are brought into this instance's index, unanswered meeting requests expire with a
kind notice, and meeting reminders go out the day before and about an hour before.

Every step is idempotent (conditional updates, notification keys), so several instances may
run it at the same time.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pymongo

from core.settings import Settings
from matching.engine import MatchingEngine

from .auth.erased import ErasedAccounts
from .auth.verifier import SignInAccounts, build_sign_in_accounts
from .errors import outage_reason
from .jobs import repository as jobs
from .meetings import housekeeping as meetings
from .privacy import accounts

log = logging.getLogger(__name__)
PASS_TIMEOUT_S = 120.0  # a pass's database budget (all of its calls together)


@dataclass
class SyncState:
    since: datetime = field(default_factory=lambda: datetime.now(UTC))


async def run_once(
    db,
    settings: Settings,
    engine: MatchingEngine,
    state: SyncState,
    now: datetime | None = None,
    sign_in_accounts: SignInAccounts | None = None,
    erased: Sequence[ErasedAccounts] = (),
) -> dict[str, int]:
    """One pass; ``erased`` are the erased-account sets of this process's verifiers."""
    now = now or datetime.now(UTC)
    erased_read = await accounts.sync_erased(db, erased)
    sign_ins = sign_in_accounts or build_sign_in_accounts(settings)
    sign_ins_deleted = await accounts.retry_sign_in_deletions(db, sign_ins, now)
    expired = await jobs.expire_postings(db, now)
    for posting_id in expired:
        engine.remove_posting(posting_id)
    synced = 0
    if engine.ready:
        for doc in await jobs.postings_changed_since(db, state.since):
            await engine.upsert_posting(doc, now)
            state.since = max(state.since, doc["updatedAt"])
            synced += 1
    return {
        "erased_accounts_read": erased_read,
        "sign_in_accounts_deleted": sign_ins_deleted,
        "postings_expired": len(expired),
        "postings_synced": synced,
        "requests_expired": await meetings.expire_requests(db, settings, now),
        "reminders_sent": await meetings.send_reminders(db, now),
    }


async def load_erased_accounts(db, erased: Sequence[ErasedAccounts]) -> None:
    """The erased accounts, read once at start-up; requests wait for this (``api.auth.erased``),
    so it is retried quickly while the database is unreachable."""
    delay = 0.5
    while True:
        try:
            await accounts.sync_erased(db, erased)
            return
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("reading the erased accounts failed; retrying")
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10.0)


async def run_forever(
    db, settings: Settings, engine: MatchingEngine, erased: ErasedAccounts
) -> None:
    state = SyncState()
    await load_erased_accounts(db, [erased])
    sign_ins = build_sign_in_accounts(settings)
    while True:
        try:
            # A pass reads whole batches (one call each): it gets its own budget instead of
            # the per-call limit meant for a user's request.
            with pymongo.timeout(PASS_TIMEOUT_S):
                figures = await run_once(
                    db, settings, engine, state, sign_in_accounts=sign_ins, erased=[erased]
                )
            if any(figures.values()):
                log.info("housekeeping", extra=figures)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if outage_reason(exc) is None:
                log.exception("housekeeping failed; will retry")
            else:  # the database is down or stalled: one line, no traceback every minute
                log.warning("housekeeping skipped: database unavailable; will retry")
        await asyncio.sleep(settings.housekeeping_interval_s)
