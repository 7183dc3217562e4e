"""Periodic work on requests and meetings, run by every API instance: unanswered requests
expire, and both sides are reminded 24 h and 1 h before a meeting. Each step is idempotent
(conditional updates, notification keys), so instances may run it at the same time."""

from __future__ import annotations

from datetime import datetime, timedelta

from core.settings import Settings

from . import notices, repository
from .requests import expire_request
from .rules import CloseReason, now_utc

REMINDERS = (("reminder-24h", timedelta(hours=24)), ("reminder-1h", timedelta(hours=1)))


async def expire_requests(db, settings: Settings, now: datetime | None = None) -> int:
    """Unanswered requests older than the configured days expire, with a kind notice."""
    now = now or now_utc()
    before = now - timedelta(days=settings.meeting_request_expiry_days)
    expired = 0
    for request in await repository.unanswered_before(db, before):
        expired += await expire_request(db, request, CloseReason.NO_ANSWER, now)
    return expired


async def send_reminders(db, now: datetime | None = None) -> int:
    """24 h and 1 h before a meeting, both sides are reminded (once per start time)."""
    now = now or now_utc()
    sent = 0
    for kind, ahead in REMINDERS:
        for meeting in await repository.meetings_starting_between(db, now, now + ahead):
            if kind == "reminder-24h" and meeting["startsAt"] <= now + timedelta(hours=1):
                continue  # the 1-hour reminder covers it
            if not await repository.mark_reminded(db, meeting["_id"], kind, meeting["startsAt"]):
                continue
            await notices.reminder(db, kind, meeting, now)
            sent += 1
    return sent
