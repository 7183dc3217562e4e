"""Periodic work on requests and meetings, run by every API instance: unanswered requests
expire, and both sides are reminded the day before and an hour before a meeting. Each step is
idempotent (conditional updates, notification keys), so instances may run it at the same time.

A reminder goes out only while its text is true: "om en time" while the meeting is still 45-60
minutes ahead, "i morgen" while it is tomorrow (Danish date) and at most 24 hours ahead. When
housekeeping missed the window (the process was down, the meeting was booked or moved later),
the reminder is skipped rather than sent with a wrong text. The citizen gets one reminder per
meeting; the company one per slot, listing the slot's candidates.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from core.settings import Settings

from . import notices, repository
from .repository import MeetingDoc
from .requests import expire_request
from .rules import CloseReason, local_day, now_utc


@dataclass(frozen=True)
class Reminder:
    kind: str  # the notification template (notifications.events)
    earliest: timedelta  # the meeting is more than this far ahead ...
    latest: timedelta  # ... and at most this far (the reminder normally goes out here)
    tomorrow: bool = False  # and, for "i morgen", on the next Danish calendar day

    def due(self, meeting: MeetingDoc, now: datetime) -> bool:
        ahead = meeting["startsAt"] - now
        if not self.earliest < ahead <= self.latest:
            return False
        if self.tomorrow:
            today = date.fromisoformat(local_day(now))
            return date.fromisoformat(local_day(meeting["startsAt"])) == today + timedelta(days=1)
        return True


REMINDER_1H = Reminder("reminder-1h", timedelta(minutes=45), timedelta(hours=1))
# Closer than an hour the 1-hour reminder covers it.
REMINDER_24H = Reminder("reminder-24h", timedelta(hours=1), timedelta(hours=24), True)
REMINDERS = (REMINDER_24H, REMINDER_1H)


async def expire_requests(db, settings: Settings, now: datetime | None = None) -> int:
    """Unanswered requests older than the configured days expire, with a kind notice."""
    now = now or now_utc()
    before = now - timedelta(days=settings.meeting_request_expiry_days)
    expired = 0
    for request in await repository.unanswered_before(db, before):
        expired += await expire_request(db, request, CloseReason.NO_ANSWER, now)
    return expired


def slot_of(meeting: MeetingDoc) -> tuple[str, str, datetime]:
    return meeting["offerId"], meeting["slotId"], meeting["startsAt"]


async def send_reminders(db, now: datetime | None = None) -> int:
    """The reminders that are due (once per meeting and start time); how many meetings were
    reminded. The company hears once per slot, with every live meeting of the slot listed."""
    now = now or now_utc()
    sent = 0
    for reminder in REMINDERS:
        window = await repository.meetings_starting_between(
            db, now + reminder.earliest, now + reminder.latest
        )
        due = [m for m in window if reminder.due(m, now)]
        slots: dict[tuple, list[MeetingDoc]] = defaultdict(list)
        for meeting in due:
            slots[slot_of(meeting)].append(meeting)
        reminded_slots = []
        for meeting in due:
            if not await repository.mark_reminded(
                db, meeting["_id"], reminder.kind, meeting["startsAt"]
            ):
                continue
            await notices.reminder_to_citizen(db, reminder.kind, meeting, now)
            sent += 1
            if slot_of(meeting) not in reminded_slots:
                reminded_slots.append(slot_of(meeting))
        for slot in reminded_slots:
            await notices.reminder_to_company(db, reminder.kind, slots[slot], now)
    return sent
