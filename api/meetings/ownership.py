"""Who owns a request or a meeting, and the caller's own one for every flow that acts on it.
Someone else's answers as unknown, so ids cannot be probed."""

from __future__ import annotations

from typing import Any

from api.auth.actor import Actor, Role

from . import repository
from .repository import MeetingDoc, MeetingRequestDoc
from .rules import Side, meeting_not_found, request_not_found


def owns_request(actor: Actor, request: MeetingRequestDoc | None) -> bool:
    """A request belongs to the company of the offer it was sent to."""
    return request is not None and request.get("companyCvr") == actor.cvr


def side_of(actor: Actor, meeting: MeetingDoc | None) -> Side | None:
    """Which side of the meeting the caller is on; None when it is not theirs."""
    if meeting is None:
        return None
    if actor.role is Role.CITIZEN and meeting["citizenId"] == actor.id:
        return "citizen"
    if actor.role is Role.EMPLOYER and meeting["companyCvr"] == actor.cvr:
        return "employer"
    return None


async def own_request(db, actor: Actor, request_id: str, session: Any = None) -> MeetingRequestDoc:
    """A request to one of the employer's company's offers."""
    request = await repository.get_request(db, request_id, session)
    if request is None or not owns_request(actor, request):
        raise request_not_found()
    return request


async def own_meeting(
    db, actor: Actor, meeting_id: str, session: Any = None
) -> tuple[MeetingDoc, Side]:
    """The caller's meeting, and which side of it they are on."""
    meeting = await repository.get_meeting(db, meeting_id, session)
    side = side_of(actor, meeting)
    if meeting is None or side is None:
        raise meeting_not_found()
    return meeting, side
