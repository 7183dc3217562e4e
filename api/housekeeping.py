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
import gc
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pymongo

from core.settings import Settings
from matching.engine import MatchingEngine

from .auth.erased import ErasedAccounts
from .auth.verifier import SignInAccounts, build_sign_in_accounts
from .errors import outage_reason
from .jobs import repository as jobs
from .meetings import housekeeping as meetings
from .offers.catalogue import sync_offers
from .privacy import accounts

log = logging.getLogger(__name__)
PASS_TIMEOUT_S = 120.0  # a pass's database budget (all of its calls together)


# How far back each read of changed postings reaches: a posting's updatedAt is its writer's
# clock before its write commits, so one committing late (or from an instance whose clock is a
# little behind) still reaches this instance's index. What was applied is not applied again.
SYNC_LOOKBACK = timedelta(minutes=2)


@dataclass
class SyncState:
    since: datetime = field(default_factory=lambda: datetime.now(UTC))
    applied: dict[str, datetime] = field(default_factory=dict)  # id -> updatedAt, in the window


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
        started = datetime.now(UTC)  # the real clock: ``now`` may be made up
        reach_from = state.since - SYNC_LOOKBACK
        while True:  # in pages, so a burst larger than one page is not read again and again
            page = await jobs.postings_changed_since(db, reach_from)
            fresh = 0
            for doc in page:
                if state.applied.get(doc["_id"]) == doc["updatedAt"]:
                    continue
                await engine.upsert_posting(doc, now)
                state.applied[doc["_id"]] = doc["updatedAt"]
                state.since = max(state.since, min(doc["updatedAt"], started))
                fresh += 1
            synced += fresh
            if len(page) < jobs.CHANGED_PAGE or not fresh:
                break
            reach_from = page[-1]["updatedAt"]
        window = state.since - SYNC_LOOKBACK
        state.applied = {k: at for k, at in state.applied.items() if at > window}
    return {
        "erased_accounts_read": erased_read,
        "sign_in_accounts_deleted": sign_ins_deleted,
        "postings_expired": len(expired),
        "postings_synced": synced,
        "offers_synced": await sync_offers(db, engine),  # the deck catalogue
        "requests_expired": await meetings.expire_requests(db, settings, now),
        "reminders_sent": await meetings.send_reminders(db, now),
    }


def freeze_start_up_heap() -> None:
    """Once start-up has built what lives as long as the process (the embedding model and
    torch, the search index, the imported modules: millions of objects), move it out of the
    garbage collector's sight. Otherwise every full collection walks all of it while holding
    the event loop: 0.2-1 s stalls of every request under load (issue 18, measured with a
    /healthz probe and gc callbacks while swiping at 100/s). What is created later is collected
    as before; the frozen objects are never freed, which they never were anyway."""
    gc.collect()
    gc.freeze()


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
