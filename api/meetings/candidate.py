"""The candidate as a company sees them, behind a request to one of its own offers.

What the company sees follows the citizen's choice: pseudonymous (initial, experience, skills,
distance band) until the request is accepted, unless the citizen chose to show their name;
e-mail and phone follow acceptance, for as long as the meeting's contact details are shown
(``rules.contact_details_shown``: not once it is cancelled, nor long after it): then the
candidate is pseudonymous again. Former employers' names are never shown, since they could
identify the person. Opening a candidate is written to the citizen's CV view log.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from api.auth.actor import Actor
from api.citizens import repository as citizens
from api.companies import repository as companies
from api.offers import repository as offers
from api.privacy import repository as privacy
from matching.geo import haversine_km

from . import repository
from .contacts import initial
from .ownership import own_request
from .repository import MeetingRequestDoc
from .rules import (
    DistanceBand,
    RequestStatus,
    contact_details_shown,
    distance_band,
    now_utc,
    request_not_found,
)


@dataclass(frozen=True)
class CandidateView:
    request_id: str
    status: RequestStatus
    initial: str
    name: str | None  # while contact is shown, or before acceptance if the citizen chose NAMED
    email: str | None  # once accepted, while the meeting's contact details are shown
    phone: str | None  # likewise
    experience: list[tuple[str, int]]  # (job title, months), longest first
    education: list[str]
    skills: list[str]
    courses: list[str]
    driving_licences: list[str]
    languages: list[tuple[str, str]]  # (language, level)
    distance_band: DistanceBand | None  # None when either place is unknown


def _months(start: str | None, end: str | None, today: datetime) -> int:
    if not start:
        return 0
    y1, m1 = map(int, start.split("-"))
    y2, m2 = map(int, end.split("-")) if end else (today.year, today.month)
    return max(1, (y2 - y1) * 12 + (m2 - m1) + 1)


def experience(cv: dict, today: datetime) -> list[tuple[str, int]]:
    """(title, months) per job title, longest first; no former employers' names."""
    months: dict[str, int] = {}
    for job in cv.get("workHistory", []):
        months[job["title"]] = months.get(job["title"], 0) + _months(
            job.get("start"), job.get("end"), today
        )
    return sorted(months.items(), key=lambda kv: -kv[1])


def shows_contact(request: MeetingRequestDoc, meeting: dict | None, now: datetime,
                  days_after: int) -> bool:  # fmt: skip
    """Whether the company sees the candidate's name and contact details: the request was
    accepted and its meeting's details are still shown."""
    return request["status"] == RequestStatus.ACCEPTED and contact_details_shown(
        meeting, now, days_after
    )


def candidate_view(
    request: MeetingRequestDoc, citizen: dict, cv: dict, offer: dict, now: datetime,
    *, contact_shown: bool = False,
) -> CandidateView:  # fmt: skip
    """``contact_shown``: ``shows_contact`` for the request (False before acceptance)."""
    accepted = request["status"] == RequestStatus.ACCEPTED
    contact = accepted and contact_shown
    named = contact or (
        not accepted and citizen.get("consents", {}).get("employerVisibility") == "NAMED"
    )
    km = None
    if offer.get("location") and citizen.get("location"):
        olon, olat = offer["location"]["coordinates"]
        clon, clat = citizen["location"]["coordinates"]
        km = haversine_km(clat, clon, olat, olon)
    return CandidateView(
        request_id=request["_id"],
        status=RequestStatus(request["status"]),
        initial=initial(citizen.get("firstName")),
        name=f"{citizen['firstName']} {citizen['lastName']}" if named else None,
        email=citizen.get("email") if contact else None,
        phone=citizen.get("phone") if contact else None,
        experience=experience(cv, now),
        education=[e["title"] for e in cv.get("education", [])],
        skills=list(cv.get("skills", [])),
        courses=list(cv.get("courses", [])),
        driving_licences=list(cv.get("drivingLicences", [])),
        languages=[(x["language"], x["level"]) for x in cv.get("languages", [])],
        distance_band=distance_band(km) if km is not None else None,
    )


async def open_candidate(db, actor: Actor, request_id: str, contact_days: int) -> CandidateView:
    """The candidate behind a request to the employer's own company, as the citizen allows
    (contact details for ``contact_days`` after the meeting). Opening it is logged for the
    citizen and marks a pending request as seen."""
    request = await own_request(db, actor, request_id)
    citizen = await citizens.get_citizen(db, request["citizenId"])
    if citizen is None:
        raise request_not_found()
    offer = await offers.get_offer(db, request["offerId"]) or {}
    cv = await citizens.primary_cv(db, citizen["_id"]) or {}
    now = now_utc()
    company = (await companies.companies_by_cvr(db, [actor.cvr]))[0] or {}
    await privacy.record_view(
        db,
        {
            "_id": uuid.uuid4().hex,
            "citizenId": citizen["_id"],
            "companyCvr": actor.cvr,
            "companyName": company.get("name", ""),
            "reason": "MEETING_REQUEST",
            "offerId": request["offerId"],
            "offerTitle": offer.get("title"),
            "meetingRequestId": request["_id"],
            "viewedAt": now,
        },
    )
    await repository.mark_seen(db, request["_id"], now)
    if request["status"] == RequestStatus.PENDING:
        request = request | {"status": RequestStatus.SEEN}
    meeting = None
    if request["status"] == RequestStatus.ACCEPTED:
        meeting = (await repository.meetings_by_request_ids(db, [request["_id"]])).get(
            request["_id"]
        )
    shown = shows_contact(request, meeting, now, contact_days)
    return candidate_view(request, citizen, cv, offer, now, contact_shown=shown)
