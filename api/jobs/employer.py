"""Job postings as a company publishes them: create, edit, close. A new posting's title goes
through title normalisation when no occupation was picked, and only a confident match is taken
(otherwise BAD_USER_INPUT asks for the occupation); an edit keeps the occupation unless a new
one is picked. The matching index follows at once: a new or changed posting is (re)indexed, a
closed one leaves the index. Expired postings leave it through the housekeeping step
(``expire_postings``)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime, time, timedelta

from api.auth.actor import Actor
from api.companies.repository import get_company
from api.taxonomy.repository import existing_occupation_ids, occupations_by_ids
from api.validation import CONTRACT_TYPES, Problems, postal_place
from core.errors import Conflict, NotFound
from matching.engine import MatchingEngine
from matching.titles import CONFIDENT_SCORE

from . import repository

MAX_WEEKLY_HOURS = 80
DEADLINE_AHEAD = timedelta(days=365)  # a deadline further ahead is a typing error


def posting_not_found() -> NotFound:
    return NotFound("Jobopslaget findes ikke.", "The job posting does not exist.")


async def _clean(db, engine: MatchingEngine, data: dict, *, keep_occupation: bool = False) -> dict:
    """The posting's fields from the input. With ``keep_occupation`` (an edit) and no
    occupation picked, the occupation fields are left out, so the stored ones stay: a changed
    title never moves the posting to another occupation by itself."""
    p = Problems()
    title = p.text("title", data.get("title"), max_len=120)
    description = p.text("description", data.get("description"), max_len=10_000, multiline=True)
    # As given: 0 is refused, never read as the default (the schema's default is 37).
    weekly = data.get("weekly_hours")
    if weekly is None or not 1 <= weekly <= MAX_WEEKLY_HOURS:
        p.add("weeklyHours", f"skal være 1-{MAX_WEEKLY_HOURS} timer om ugen.",
              f"must be 1-{MAX_WEEKLY_HOURS} hours a week.")  # fmt: skip
    contract = p.choice("contractType", data.get("contract_type") or "PERMANENT", CONTRACT_TYPES)
    deadline: date | None = data.get("deadline")
    today = datetime.now(UTC).date()
    if deadline is None or deadline < today:
        p.add("deadline", "skal være i dag eller senere.", "must be today or later.")
    elif deadline > today + DEADLINE_AHEAD:
        p.add("deadline", "må højst ligge et år ude i fremtiden.",
              "must be at most a year ahead.")  # fmt: skip
    place = postal_place(p, data.get("postal_code"))
    town = p.text("town", data.get("town"), max_len=60, required=False)
    requirements = []
    for i, r in enumerate(p.capped("requirements", data.get("requirements"))):
        skill = p.text(f"requirements[{i}].skill", r.get("skill"), max_len=80)
        requirements.append({"skill": skill, "required": bool(r.get("required", True))})
    occupation_id = data.get("occupation_id")
    normalized = None
    if occupation_id:
        if occupation_id not in await existing_occupation_ids(db, [occupation_id]):
            p.add("occupationId", "ukendt stilling.", "unknown occupation.")
    elif title and not keep_occupation:
        # Embeds the title: in a thread, off the event loop.
        matches = await asyncio.to_thread(engine.normalize_title, title, 1)
        if matches and matches[0].score >= CONFIDENT_SCORE:
            occupation_id, normalized = matches[0].occupation_id, matches[0].score
        else:
            p.add("occupationId", "vælg stillingsbetegnelsen fra listen; titlen kunne ikke "
                  "genkendes.", "pick the occupation from the list; the title was not "
                  "recognised.")  # fmt: skip
    p.raise_if_any()
    assert place is not None and deadline is not None
    fields: dict = {"title": title, "description": description}
    if occupation_id:
        occupation = (await occupations_by_ids(db, [occupation_id]))[0]
        fields |= {
            "occupationId": occupation_id,
            "iscoCode": occupation["iscoCode"],
            "titleNormalisationScore": normalized,
        }
    return fields | {
        "requirements": requirements,
        "hours": "FULL_TIME" if weekly >= 37 else "PART_TIME",
        "weeklyHours": weekly,
        "contractType": contract,
        "postalCode": place.postal_code,
        "town": town or place.town or "",
        "region": place.region,
        "location": {"type": "Point", "coordinates": [place.lon, place.lat]},
        "deadline": datetime.combine(deadline, time(23, 59), UTC),
    }


async def create_posting(db, engine: MatchingEngine, actor: Actor, data: dict) -> dict:
    company = await get_company(db, actor.cvr or "")
    if company is None:
        raise NotFound("Opret virksomhedens profil først.", "Create the company profile first.")
    fields = await _clean(db, engine, data)
    now = datetime.now(UTC)
    doc = {
        "_id": uuid.uuid4().hex,
        **fields,
        "companyCvr": actor.cvr,
        "companyName": company["name"],
        "postedAt": now,
        "updatedAt": now,
        "status": "OPEN",
        "source": "employer",
    }
    await repository.insert_posting(db, doc)
    if engine.ready:
        await engine.upsert_posting(doc, now)
    return doc


async def update_posting(
    db, engine: MatchingEngine, actor: Actor, posting_id: str, data: dict
) -> dict:
    fields = await _clean(db, engine, data, keep_occupation=True)
    now = datetime.now(UTC)
    doc = await repository.update_posting(
        db, posting_id, actor.cvr or "", {"status": "OPEN"}, fields | {"updatedAt": now}
    )
    if doc is None:
        await _explain_missing(db, actor, posting_id)
    if engine.ready:
        await engine.upsert_posting(doc, now)
    return doc


async def close_posting(db, engine: MatchingEngine, actor: Actor, posting_id: str) -> dict:
    now = datetime.now(UTC)
    doc = await repository.update_posting(
        db, posting_id, actor.cvr or "", {"status": "OPEN"},
        {"status": "CLOSED", "closedAt": now, "updatedAt": now},
    )  # fmt: skip
    if doc is None:
        await _explain_missing(db, actor, posting_id)
    engine.remove_posting(posting_id)
    return doc


async def _explain_missing(db, actor: Actor, posting_id: str) -> None:
    existing = await repository.get_posting(db, posting_id)
    if existing is None or existing["companyCvr"] != actor.cvr:
        raise posting_not_found()
    raise Conflict(
        f"Jobopslaget er {existing['status'].lower()} og kan ikke ændres.",
        f"The job posting is {existing['status'].lower()} and cannot be changed.",
    )


async def my_postings(db, actor: Actor, statuses: list[str]) -> list[dict]:
    return await repository.postings_of_company(db, actor.cvr or "", statuses)
