"""What the coffee-meeting flows tell people, through ``notifications.events``: one function per
event, with its idempotency key (so a retried transaction notifies once) and the screen it
opens in the app."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from api.directory import DIRECTORY
from api.offers import repository as offers
from api.offers.rules import MeetingMode
from notifications import events, inbox
from notifications.events import at_time, by_role

from .repository import MeetingDoc, MeetingRequestDoc
from .rules import Side


async def request_created(
    db, request: MeetingRequestDoc, offer_title: str, now: datetime, session: Any
) -> None:
    """The company's employers hear of a new request."""
    await events.to_company(
        db,
        DIRECTORY,
        "request-created",
        request["companyCvr"],
        f"request-created:{request['_id']}",
        f"/offers/{request['offerId']}/requests/{request['_id']}",
        {"offer": offer_title},
        session=session,
        now=now,
    )


async def request_taken_back(db, request_id: str, session: Any) -> None:
    """The citizen undid the YES: the company's notice of it goes."""
    await inbox.retract(db, f"request-created:{request_id}", session=session)


async def request_accepted(db, meeting: MeetingDoc, now: datetime, session: Any) -> None:
    """The citizen hears that the request became this meeting."""
    await events.to_citizen(
        db,
        DIRECTORY,
        "request-accepted",
        meeting["citizenId"],
        f"request-accepted:{meeting['requestId']}",
        f"/meetings/{meeting['_id']}",
        {
            "company": meeting["companyName"],
            "offer": meeting["title"],
            "when": at_time(meeting["startsAt"]),
        },
        session=session,
        now=now,
    )


async def request_ended(
    db, kind: str, request: MeetingRequestDoc, now: datetime, session: Any
) -> None:
    """A kind notice that a request was declined or ran out; it leads back to the deck."""
    offer = await offers.get_offer(db, request["offerId"], session) or {}
    values = {"company": offer.get("companyName", ""), "offer": offer.get("title", "")}
    await events.to_citizen(db, DIRECTORY, kind, request["citizenId"], f"{kind}:{request['_id']}",
                            "/swipe", values, session=session, now=now)  # fmt: skip


async def request_withdrawn(
    db, request: MeetingRequestDoc, offer_title: str, at: datetime, session: Any
) -> None:
    """The company hears that a request is gone, without who sent it."""
    await events.to_company(
        db,
        DIRECTORY,
        "request-withdrawn",
        request["companyCvr"],
        f"request-withdrawn:{request['_id']}",
        f"/offers/{request['offerId']}/requests",
        {"offer": offer_title},
        session=session,
        now=at,
    )


async def meeting_changed(
    db, meeting: MeetingDoc, side: Side, kind: str, now: datetime, session: Any
) -> None:
    """The side that did not make the change (``side`` did) hears of it."""
    values = {"offer": meeting["title"], "when": at_time(meeting["startsAt"]),
              "by": by_role(side)}  # fmt: skip
    key = f"{kind}:{meeting['_id']}:{meeting['updatedAt'].isoformat()}"
    route = f"/meetings/{meeting['_id']}"
    if side == "employer":
        send, to = events.to_citizen, meeting["citizenId"]
    else:
        send, to = events.to_company, meeting["companyCvr"]
    await send(db, DIRECTORY, kind, to, key, route, values, session=session, now=now)


async def reminder(db, kind: str, meeting: MeetingDoc, now: datetime) -> None:
    """Both sides are reminded, once per start time."""
    place = meeting.get("address") or ("video" if meeting.get("mode") == MeetingMode.VIDEO else "")
    values = {"offer": meeting["title"], "when": at_time(meeting["startsAt"]), "place": place}
    key = f"{kind}:{meeting['_id']}:{meeting['startsAt'].isoformat()}"
    route = f"/meetings/{meeting['_id']}"
    await events.to_citizen(db, DIRECTORY, kind, meeting["citizenId"], key, route, values, now=now)
    await events.to_company(db, DIRECTORY, kind, meeting["companyCvr"], key, route, values, now=now)
