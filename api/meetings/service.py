"""Meeting requests as the employer sees them, and what happens to them when a citizen leaves.

A company sees a candidate only through a request to one of its own offers, and only at the
visibility the citizen chose: pseudonymous (initial, experience, skills, distance band) until
the request is accepted, unless the citizen chose to show their name. Contact details follow
acceptance. Every opening is written to the citizen's CV view log.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from api.auth.actor import Actor
from api.citizens import repository as citizens
from api.privacy import repository as privacy
from api.viewer.repository import companies_by_cvr
from core.errors import NotFound
from matching.geo import haversine_km
from notifications.inbox import Text, notify

from . import repository

DISTANCE_BANDS = ((5, "UNDER_5_KM"), (15, "KM_5_15"), (30, "KM_15_30"), (60, "KM_30_60"))


def request_not_found() -> NotFound:
    return NotFound("Mødeanmodningen findes ikke.", "The meeting request does not exist.")


def distance_band(km: float) -> str:
    for limit, band in DISTANCE_BANDS:
        if km < limit:
            return band
    return "OVER_60_KM"


def _months(start: str | None, end: str | None, today: datetime) -> int:
    if not start:
        return 0
    y1, m1 = map(int, start.split("-"))
    y2, m2 = map(int, end.split("-")) if end else (today.year, today.month)
    return max(1, (y2 - y1) * 12 + (m2 - m1) + 1)


def experience(cv: dict, today: datetime) -> list[tuple[str, int]]:
    """(title, months) per job title, longest first; no former employers' names, which could
    identify the person."""
    months: dict[str, int] = {}
    for job in cv.get("workHistory", []):
        months[job["title"]] = months.get(job["title"], 0) + _months(
            job.get("start"), job.get("end"), today
        )
    return sorted(months.items(), key=lambda kv: -kv[1])


async def open_candidate(db, actor: Actor, request_id: str) -> dict:
    """The candidate behind a request to the employer's own company, as the citizen allows.
    Opening it is logged for the citizen and marks a pending request as seen."""
    request = await repository.get_request(db, request_id)
    # Another company's request answers as unknown, so ids cannot be probed.
    if request is None or request.get("companyCvr") != actor.cvr:
        raise request_not_found()
    citizen = await citizens.get_citizen(db, request["citizenId"])
    if citizen is None:
        raise request_not_found()
    offer = await repository.get_offer(db, request["offerId"]) or {}
    cv = await citizens.primary_cv(db, citizen["_id"]) or {}
    now = datetime.now(UTC)
    company = (await companies_by_cvr(db, [actor.cvr]))[0] or {}
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
    accepted = request["status"] in ("ACCEPTED",)
    named = accepted or citizen.get("consents", {}).get("employerVisibility") == "NAMED"
    km = None
    if offer.get("location") and citizen.get("location"):
        olon, olat = offer["location"]["coordinates"]
        clon, clat = citizen["location"]["coordinates"]
        km = haversine_km(clat, clon, olat, olon)
    return {
        "requestId": request["_id"],
        "status": "SEEN" if request["status"] == "PENDING" else request["status"],
        "initial": citizen["firstName"][:1].upper() + ".",
        "name": f"{citizen['firstName']} {citizen['lastName']}" if named else None,
        "email": citizen.get("email") if accepted else None,
        "phone": citizen.get("phone") if accepted else None,
        "experience": experience(cv, now),
        "education": [e["title"] for e in cv.get("education", [])],
        "skills": list(cv.get("skills", [])),
        "courses": list(cv.get("courses", [])),
        "drivingLicences": list(cv.get("drivingLicences", [])),
        "languages": cv.get("languages", []),
        "distanceBand": distance_band(km) if km is not None else None,
    }


WITHDRAWN_TEXT = Text(
    "En kandidat har trukket sin anmodning tilbage",
    "En kandidat har trukket sin anmodning om kaffemøde tilbage: {offer}.",
    "A candidate withdrew their request",
    "A candidate withdrew their coffee-meeting request: {offer}.",
)


async def withdraw_for_erasure(db, citizen_id: str, at: datetime, session) -> int:
    """Close the citizen's open requests (giving booked seats back) and tell each company,
    without saying who it was. Runs inside the erasure transaction."""
    requests = await repository.open_requests_of(db, citizen_id, session)
    for request in requests:
        await repository.withdraw(db, request, "ACCOUNT_DELETED", at, session)
        offer = await repository.get_offer(db, request["offerId"], session) or {}
        title = offer.get("title", "")
        text = Text(
            WITHDRAWN_TEXT.title_da,
            WITHDRAWN_TEXT.body_da.format(offer=title),
            WITHDRAWN_TEXT.title_en,
            WITHDRAWN_TEXT.body_en.format(offer=title),
        )
        for employer_id, locale in await repository.employer_ids_of_company(
            db, request["companyCvr"], session
        ):
            await notify(
                db,
                recipient_id=employer_id,
                recipient_role="employer",
                category="MEETINGS",
                key=f"request-withdrawn:{request['_id']}",
                text=text,
                locale=locale,
                route=f"/offers/{request['offerId']}/requests",
                session=session,
                now=at,
            )
    return len(requests)
