"""When a citizen erases their account: their unanswered requests close and their coming
meetings are cancelled (the seats given back), and each company is told without saying who it
was. Runs inside the erasure transaction (``api.privacy.service``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from api.offers import repository as offers

from . import notices, repository
from .repository import MeetingEventDoc
from .rules import UNANSWERED, CloseReason, MeetingStatus, allowed_from


async def withdraw_for_erasure(db, citizen_id: str, at: datetime, session: Any) -> int:
    """How many requests and meetings were closed."""
    closed = 0
    for request in await repository.open_requests_of(db, citizen_id, session):
        if request["status"] not in UNANSWERED:
            continue
        await repository.withdraw(db, request, CloseReason.ACCOUNT_DELETED, at, session)
        offer = await offers.get_offer(db, request["offerId"], session) or {}
        await notices.request_withdrawn(db, request, offer.get("title", ""), at, session)
        closed += 1
    for meeting in await repository.live_meetings_of_citizen(db, citizen_id, session):
        moved = await repository.move_meeting(
            db,
            meeting["_id"],
            allowed_from(MeetingStatus.CANCELLED),
            {
                "status": MeetingStatus.CANCELLED,
                "closedAt": at,
                "closeReason": CloseReason.ACCOUNT_DELETED,
                "updatedAt": at,
            },
            MeetingEventDoc(status=MeetingStatus.CANCELLED, at=at, by="citizen"),
            session,
        )
        if moved is None:
            continue
        await offers.release_seat(db, meeting["offerId"], meeting["slotId"], session)
        await notices.meeting_changed(db, moved, "citizen", "meeting-cancelled", at, session)
        closed += 1
    return closed
