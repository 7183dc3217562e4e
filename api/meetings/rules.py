"""The shared rules of coffee meetings, in one place and without I/O: the states of a request
and of a meeting and the moves between them, the answers a citizen or company may give, the
distance bands a company sees, and the errors for each. Who owns a request or meeting is
``ownership``.

Every list of states or reasons elsewhere (the GraphQL enums, the repository's filters) is
derived from the enums here.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Literal

from core.errors import Conflict, NotFound
from notifications.events import COPENHAGEN

Side = Literal["citizen", "employer"]

# What the other side reads where a citizen erased their account (api.privacy): the request or
# meeting stays, anonymised, and nothing of the person.
ERASED_NAME = {"da": "Slettet bruger", "en": "Deleted user"}


def erased_name(locale: str) -> str:
    return ERASED_NAME.get(locale, ERASED_NAME["da"])


# --- the citizen's answer to a card -------------------------------------------------------------
class SwipeDecision(StrEnum):
    YES = "YES"
    NO = "NO"


class SwipeReason(StrEnum):
    """Why not; used only for this citizen's own deck."""

    NOT_INTERESTED = "NOT_INTERESTED"
    TOO_FAR = "TOO_FAR"
    WRONG_FIELD = "WRONG_FIELD"
    BAD_TIMES = "BAD_TIMES"
    OTHER = "OTHER"


# --- requests -------------------------------------------------------------------------------------
class RequestStatus(StrEnum):
    PENDING = "PENDING"
    SEEN = "SEEN"
    ACCEPTED = "ACCEPTED"
    DECLINED = "DECLINED"
    EXPIRED = "EXPIRED"
    WITHDRAWN = "WITHDRAWN"


# The company has not answered yet: it may still accept or decline, and the request may expire.
UNANSWERED: tuple[RequestStatus, ...] = (RequestStatus.PENDING, RequestStatus.SEEN)
# Not closed: erasing the citizen withdraws these.
OPEN_REQUEST: tuple[RequestStatus, ...] = (*UNANSWERED, RequestStatus.ACCEPTED)


class DeclineReason(StrEnum):
    NOT_A_MATCH = "NOT_A_MATCH"
    POSITION_FILLED = "POSITION_FILLED"
    NO_CAPACITY = "NO_CAPACITY"
    OTHER = "OTHER"


class CloseReason(StrEnum):
    """Why a request or meeting closed (stored as ``closeReason``; not part of the API)."""

    DECLINED = "DECLINED"
    NO_ANSWER = "NO_ANSWER"  # expired unanswered
    OFFER_CLOSED = "OFFER_CLOSED"
    ACCOUNT_DELETED = "ACCOUNT_DELETED"
    CANCELLED_BY_CITIZEN = "CANCELLED_BY_CITIZEN"
    CANCELLED_BY_EMPLOYER = "CANCELLED_BY_EMPLOYER"
    COMPLETED = "COMPLETED"
    NO_SHOW = "NO_SHOW"


# --- meetings -------------------------------------------------------------------------------------
class MeetingStatus(StrEnum):
    SCHEDULED = "SCHEDULED"
    RESCHEDULED = "RESCHEDULED"
    CANCELLED = "CANCELLED"
    COMPLETED = "COMPLETED"
    NO_SHOW = "NO_SHOW"


# Which meeting states may follow which; anything else answers CONFLICT. A meeting that has
# not ended may move again, be cancelled or get its outcome; an ended one stays as it is.
_NEXT_WHILE_LIVE = (
    MeetingStatus.RESCHEDULED,
    MeetingStatus.CANCELLED,
    MeetingStatus.COMPLETED,
    MeetingStatus.NO_SHOW,
)
TRANSITIONS: dict[MeetingStatus, tuple[MeetingStatus, ...]] = {
    MeetingStatus.SCHEDULED: _NEXT_WHILE_LIVE,
    MeetingStatus.RESCHEDULED: _NEXT_WHILE_LIVE,
    MeetingStatus.CANCELLED: (),
    MeetingStatus.COMPLETED: (),
    MeetingStatus.NO_SHOW: (),
}

# What the company records once a meeting has started.
MeetingOutcome = StrEnum(
    "MeetingOutcome",
    {s.name: s.value for s in (MeetingStatus.COMPLETED, MeetingStatus.NO_SHOW)},
    module=__name__,
)


def allowed_from(target: MeetingStatus | str) -> tuple[MeetingStatus, ...]:
    """The states a meeting may move to ``target`` from."""
    return tuple(s for s, nxt in TRANSITIONS.items() if target in nxt)


# Not yet held or called off: reminders go out, erasure cancels them.
LIVE_MEETING: tuple[MeetingStatus, ...] = allowed_from(MeetingStatus.CANCELLED)


def contact_details_shown(
    meeting: Mapping[str, Any] | None, now: datetime, days_after: int
) -> bool:
    """Whether the company still sees the citizen's name and contact details for a meeting:
    while it is on and for ``days_after`` days after its end (to follow up), never once it is
    cancelled (``settings.contact_details_days_after_meeting``)."""
    if meeting is None or meeting.get("status") == MeetingStatus.CANCELLED:
        return False
    return now <= meeting["endsAt"] + timedelta(days=days_after)


# --- live updates ---------------------------------------------------------------------------------
class ChangeKind(StrEnum):
    REQUEST = "REQUEST"
    MEETING = "MEETING"


# --- what a company sees of the candidate ---------------------------------------------------------
class DistanceBand(StrEnum):
    UNDER_5_KM = "UNDER_5_KM"
    KM_5_15 = "KM_5_15"
    KM_15_30 = "KM_15_30"
    KM_30_60 = "KM_30_60"
    OVER_60_KM = "OVER_60_KM"


# (upper limit in km, band), nearest first; beyond the last limit is OVER_60_KM.
DISTANCE_BANDS: tuple[tuple[float, DistanceBand], ...] = (
    (5, DistanceBand.UNDER_5_KM),
    (15, DistanceBand.KM_5_15),
    (30, DistanceBand.KM_15_30),
    (60, DistanceBand.KM_30_60),
)


def distance_band(km: float) -> DistanceBand:
    for limit, band in DISTANCE_BANDS:
        if km < limit:
            return band
    return DistanceBand.OVER_60_KM


# --- time -------------------------------------------------------------------------------------------
def now_utc() -> datetime:
    return datetime.now(UTC)


def local_day(at: datetime) -> str:
    """The Danish calendar day (the daily YES quota and the deck's order turn over with it)."""
    return at.astimezone(COPENHAGEN).date().isoformat()


# --- errors -----------------------------------------------------------------------------------------
def request_not_found() -> NotFound:
    return NotFound("Mødeanmodningen findes ikke.", "The meeting request does not exist.")


def meeting_not_found() -> NotFound:
    return NotFound("Mødet findes ikke.", "The meeting does not exist.")


def already_answered() -> Conflict:
    return Conflict("Anmodningen er allerede besvaret.", "The request has already been answered.")


def illegal(status: str, target: str) -> Conflict:
    return Conflict(
        f"Et møde med status {status} kan ikke ændres til {target}.",
        f"A meeting with status {status} cannot change to {target}.",
        extensions={"status": status},
    )


def slot_passed() -> Conflict:
    return Conflict("Tidspunktet er passeret.", "The time slot has passed.")


def slot_full() -> Conflict:
    return Conflict(
        "Tidspunktet er optaget. Vælg et andet.", "The time slot is full. Choose another."
    )
