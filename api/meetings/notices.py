"""What the coffee-meeting flows tell people, through ``notifications.events``: one function per
event, with its idempotency key (so a retried transaction notifies once) and the screen it
opens in the app."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from api.citizens import repository as citizens
from api.directory import DIRECTORY
from api.offers import repository as offers
from api.offers.rules import MeetingMode
from notifications import events, inbox
from notifications.directory import Recipient
from notifications.events import at_time, by_role

from .contacts import initial
from .repository import MeetingDoc, MeetingRequestDoc
from .rules import Side


async def company_recipients(db, cvr: str, session: Any = None) -> list[Recipient]:
    """Who hears of the company's new requests (the swipe reads it before its transaction)."""
    return await DIRECTORY.company_recipients(db, cvr, session=session)


async def request_created(
    db,
    request: MeetingRequestDoc,
    offer_title: str,
    now: datetime,
    session: Any,
    recipients: Sequence[Recipient] | None = None,
) -> None:
    """The company's employers (``recipients`` when already read) hear of a new request."""
    if recipients is None:
        recipients = await company_recipients(db, request["companyCvr"], session)
    await events.send(
        db,
        "request-created",
        recipients,
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


def _place(meeting: MeetingDoc) -> str:
    return meeting.get("address") or ("video" if meeting.get("mode") == MeetingMode.VIDEO else "")


def _reminder_values(meeting: MeetingDoc) -> dict:
    return {"offer": meeting["title"], "when": at_time(meeting["startsAt"]),
            "place": _place(meeting)}  # fmt: skip


async def reminder_to_citizen(db, kind: str, meeting: MeetingDoc, now: datetime) -> None:
    """The citizen is reminded of their meeting, once per start time."""
    key = f"{kind}:{meeting['_id']}:{meeting['startsAt'].isoformat()}"
    await events.to_citizen(db, DIRECTORY, kind, meeting["citizenId"], key,
                            f"/meetings/{meeting['_id']}", _reminder_values(meeting), now=now)  # fmt: skip


def candidate_label(citizen: dict | None) -> str:
    """How a reminder names a candidate: the initial, or the name when the citizen chose to be
    shown by name (NAMED). The text stays in the company's inbox and on lock screens, so it
    carries no more than that, although the accepted meeting shows the name in the app."""
    if not citizen:
        return "–"
    if citizen.get("consents", {}).get("employerVisibility") == "NAMED":
        return f"{citizen['firstName']} {citizen['lastName']}"
    return initial(citizen.get("firstName"))


def candidates_text(labels: list[str]):
    """The slot's candidates as "3 kandidater: J., M. og Mette Kjær.", in each recipient's
    language (the sentence's full stop included: an initial already ends with one)."""

    def render(locale: str) -> str:
        joined = labels[0] if len(labels) == 1 else ", ".join(labels[:-1])
        if locale == "en":
            if len(labels) > 1:
                joined += f" and {labels[-1]}"
            noun = "candidate" if len(labels) == 1 else "candidates"
        else:
            if len(labels) > 1:
                joined += f" og {labels[-1]}"
            noun = "kandidat" if len(labels) == 1 else "kandidater"
        text = f"{len(labels)} {noun}: {joined}"
        return text if text.endswith(".") else text + "."  # ends the sentence, once

    return render


async def reminder_to_company(db, kind: str, meetings: list[MeetingDoc], now: datetime) -> None:
    """The company is reminded once per slot (not once per meeting), with the slot's
    candidates listed as ``candidate_label`` names them; it opens the slot's first meeting."""
    meetings = sorted(meetings, key=lambda m: (m["createdAt"], m["_id"]))
    first = meetings[0]
    people = await citizens.citizens_by_ids(db, [m["citizenId"] for m in meetings])
    values = _reminder_values(first) | {"candidates": candidates_text(
        [candidate_label(p) for p in people])}  # fmt: skip
    key = f"{kind}:{first['offerId']}:{first['slotId']}:{first['startsAt'].isoformat()}"
    await events.to_company(db, DIRECTORY, f"{kind}-company", first["companyCvr"], key,
                            f"/meetings/{first['_id']}", values, now=now)  # fmt: skip
