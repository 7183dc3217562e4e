"""A confirmed meeting's life until it is held: either side may cancel it or move it to another
slot, the company records the outcome once it has started, and the other side is told.

Each change checks the allowed moves (``rules.TRANSITIONS``) in the update's own filter and runs
in one transaction with the seats it frees or takes.
"""

from __future__ import annotations

from api.auth.actor import Actor, Role
from api.joblog.service import record_meeting_held
from api.offers import repository as offers
from api.offers.rules import MeetingMode
from api.validation import Problems
from core.errors import BadUserInput, Conflict
from notifications.events import COPENHAGEN
from store.client import in_transaction

from . import notices, repository
from .ownership import own_meeting
from .repository import MeetingDoc, MeetingEventDoc
from .rules import (
    CloseReason,
    MeetingOutcome,
    MeetingStatus,
    allowed_from,
    illegal,
    meeting_not_found,
    now_utc,
    slot_full,
    slot_passed,
)


async def my_meetings(db, actor: Actor, statuses: list[str]) -> list[MeetingDoc]:
    if actor.role is Role.EMPLOYER:
        return await repository.meetings_of(db, "companyCvr", actor.cvr or "", statuses)
    return await repository.meetings_of(db, "citizenId", actor.id, statuses)


async def get_meeting(db, actor: Actor, meeting_id: str) -> MeetingDoc:
    return (await own_meeting(db, actor, meeting_id))[0]


async def move(
    db, meeting: MeetingDoc, to: MeetingStatus, fields: dict, entry: dict, session
) -> MeetingDoc:
    """Move the meeting to state ``to`` if it may go there from where it is now (checked in
    the update itself); otherwise CONFLICT."""
    moved = await repository.move_meeting(
        db, meeting["_id"], allowed_from(to), {"status": to, **fields},
        MeetingEventDoc(status=to, **entry), session,
    )  # fmt: skip
    if moved is None:
        raise illegal(meeting["status"], to)
    return moved


async def cancel_meeting(db, actor: Actor, meeting_id: str, reason: str | None) -> MeetingDoc:
    now = now_utc()
    p = Problems()
    p_reason = p.text("reason", reason, max_len=300, required=False, multiline=True)
    p.raise_if_any()

    async def work(session) -> MeetingDoc:
        meeting, side = await own_meeting(db, actor, meeting_id, session)
        fields = {"closedAt": now, "closeReason": CloseReason(f"CANCELLED_BY_{side.upper()}"),
                  "cancelNote": p_reason, "updatedAt": now}  # fmt: skip
        moved = await move(
            db, meeting, MeetingStatus.CANCELLED, fields, {"at": now, "by": side}, session
        )
        await offers.release_seat(db, meeting["offerId"], meeting["slotId"], session)
        await notices.meeting_changed(db, moved, side, "meeting-cancelled", now, session)
        return moved

    return await in_transaction(db, work)


async def reschedule_meeting(db, actor: Actor, meeting_id: str, slot_id: str) -> MeetingDoc:
    now = now_utc()

    async def work(session) -> MeetingDoc:
        meeting, side = await own_meeting(db, actor, meeting_id, session)
        if meeting["status"] not in allowed_from(MeetingStatus.RESCHEDULED):
            raise illegal(meeting["status"], MeetingStatus.RESCHEDULED)
        if slot_id == meeting["slotId"]:
            raise BadUserInput("Mødet ligger allerede på det tidspunkt.",
                               "The meeting is already at that time.")  # fmt: skip
        offer = await offers.get_offer(db, meeting["offerId"], session) or {}
        slot = next((s for s in offer.get("slots", []) if s["_id"] == slot_id), None)
        if slot is None:
            raise BadUserInput("Ukendt tidspunkt.", "Unknown time slot.")
        if slot["startsAt"] <= now:
            raise slot_passed()
        if not await offers.book_seat(db, offer["_id"], slot_id, slot["capacity"], session):
            raise slot_full()
        fields = {"slotId": slot_id, "startsAt": slot["startsAt"], "endsAt": slot["endsAt"],
                  "updatedAt": now}  # fmt: skip
        entry = {"at": now, "by": side, "slotId": slot_id}
        moved = await move(db, meeting, MeetingStatus.RESCHEDULED, fields, entry, session)
        await offers.release_seat(db, meeting["offerId"], meeting["slotId"], session)
        await notices.meeting_changed(db, moved, side, "meeting-rescheduled", now, session)
        return moved

    return await in_transaction(db, work)


async def record_outcome(
    db, actor: Actor, meeting_id: str, outcome: MeetingOutcome | str
) -> MeetingDoc:
    """The company records that the meeting was held (COMPLETED) or the candidate did not
    come (NO_SHOW), once it has started. A held meeting goes into the citizen's joblog."""
    if outcome not in tuple(MeetingOutcome):
        raise BadUserInput("Ukendt udfald.", "Unknown outcome.")
    target = MeetingStatus(outcome)
    now = now_utc()

    async def work(session) -> MeetingDoc:
        meeting, side = await own_meeting(db, actor, meeting_id, session)
        if side != "employer":
            raise meeting_not_found()
        if meeting["status"] not in allowed_from(target):
            raise illegal(meeting["status"], target)
        if meeting["startsAt"] > now:
            raise Conflict("Mødet er ikke begyndt endnu.", "The meeting has not started yet.")
        fields = {"closedAt": now, "closeReason": CloseReason(target), "updatedAt": now}
        moved = await move(db, meeting, target, fields, {"at": now, "by": side}, session)
        if target is MeetingStatus.COMPLETED:
            await record_meeting_held(
                db,
                citizen_id=meeting["citizenId"],
                meeting_id=meeting_id,
                company_cvr=meeting["companyCvr"],
                company_name=meeting.get("companyName", ""),
                title=meeting["title"],
                held_on=meeting["startsAt"].astimezone(COPENHAGEN).date(),
                video=meeting.get("mode") == MeetingMode.VIDEO,
                session=session,
            )
        return moved

    return await in_transaction(db, work)
