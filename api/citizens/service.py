"""The citizen's own profile, CV variants, job wishes and privacy choices.

Every write is validated whole before anything is stored, runs in one transaction, and a change
that affects matching (the primary CV, wanted occupations, profiling turned on) re-embeds the
citizen's profile through ``matching`` straight away; profiling turned off deletes the profile
embedding in the same transaction that records the choice.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from api.auth.actor import Actor
from api.auth.erased import account_deleted
from api.privacy import accounts as erased_accounts
from api.taxonomy.repository import existing_occupation_ids
from api.validation import CONTRACT_TYPES, HOURS, Problems, postal_place
from core.errors import Conflict, NotFound
from matching.engine import MatchingEngine
from notifications import jobagent
from store.client import in_transaction

from . import repository
from .validation import (
    DRIVING_LICENCES,
    EDUCATION_LEVELS,
    EMPLOYER_VISIBILITY,
    LANGUAGE_LEVELS,
    LOCALES,
    MAX_CVS,
    PUSH_CATEGORIES,
    email,
    phone,
    year,
)

DEFAULT_PREFERENCES = {
    "occupationIds": [],
    "radiusKm": 30,
    "hours": "ANY",
    "contractTypes": ["PERMANENT", "TEMPORARY"],
    "earliestStart": None,
}
# How far ahead a wished start may lie; an earlier one (even long past) means "from now", but
# not before the window's start, so a stored wish re-sent unchanged stays valid for years.
EARLIEST_START_AHEAD = timedelta(days=2 * 365)
EARLIEST_START_BACK = timedelta(days=5 * 365)
DEFAULT_CONSENTS = {
    "profiling": True,  # opt-out, as the guide's rule 4 says; the app explains it at sign-up
    "employerVisibility": "PSEUDONYMOUS",
    "push": {category: True for category in PUSH_CATEGORIES},
}


def _now() -> datetime:
    return datetime.now(UTC)


def no_profile() -> NotFound:
    return NotFound(
        "Udfyld din profil først (navn og postnummer).",
        "Fill in your profile first (name and postal code).",
    )


async def require_citizen(db, actor: Actor, session: Any = None) -> dict:
    citizen = await repository.get_citizen(db, actor.id, session)
    if citizen is None:
        raise no_profile()
    return citizen


# --- profile --------------------------------------------------------------------------------
async def my_profile(db, actor: Actor) -> dict | None:
    return await repository.get_citizen(db, actor.id)


def clean_profile(data: dict) -> dict:
    p = Problems()
    out: dict[str, Any] = {
        "firstName": p.text("firstName", data.get("first_name"), max_len=60),
        "lastName": p.text("lastName", data.get("last_name"), max_len=60),
        "email": email(p, "email", data.get("email")),
        "phone": phone(p, "phone", data.get("phone")),
    }
    if out["firstName"] and not p.has("firstName") and not out["firstName"][0].isalpha():
        # Companies see the initial before they accept: it must be a letter.
        p.add("firstName", "skal begynde med et bogstav.", "must start with a letter.")
    place = postal_place(p, data.get("postal_code"))
    town = p.text("town", data.get("town"), max_len=60, required=False)
    locale = p.choice("locale", data.get("locale") or "da", LOCALES)
    p.raise_if_any()
    assert place is not None
    out |= {
        "postalCode": place.postal_code,
        # What the citizen typed wins; otherwise the town we know for the code.
        "town": town or place.town,
        "kommune": place.kommune,
        "region": place.region,
        # Only the postal area's centre is kept, never a street address.
        "location": {"type": "Point", "coordinates": [place.lon, place.lat]},
        "locationApproximate": not place.exact,
        "locale": locale,
    }
    return out


async def update_profile(db, actor: Actor, data: dict) -> dict:
    """Create the profile on first save, change it afterwards."""
    fields = clean_profile(data)
    now = _now()

    async def work(session) -> dict:
        citizen = await repository.get_citizen(db, actor.id, session)
        if citizen is not None:
            return await repository.update_citizen(
                db, actor.id, fields | {"updatedAt": now}, session
            )
        # An erased account is never re-created, even by a token another instance has not yet
        # learnt to refuse (read in the transaction, so a racing erasure is seen too).
        if await erased_accounts.is_erased(db, actor.id, session):
            raise account_deleted()
        doc = {
            "_id": actor.id,
            **fields,
            "preferences": dict(DEFAULT_PREFERENCES),
            "consents": {**DEFAULT_CONSENTS, "push": dict(DEFAULT_CONSENTS["push"])},
            "createdAt": now,
            "updatedAt": now,
        }
        await repository.insert_citizen(db, doc, session)
        # The starting choices are the first entries of the consent history.
        await repository.insert_consent_events(
            db, consent_events(actor.id, {}, doc["consents"], now, "SIGN_UP"), session
        )
        return doc

    return await in_transaction(db, work)


# --- job wishes -----------------------------------------------------------------------------
async def check_job_wishes(db, p: Problems, data: dict) -> tuple[list[str], float, str]:
    """The wishes that job preferences and the job agent share: known occupations (no
    repeats), a radius of 1-500 km and the hours. Problems go into ``p``."""
    wanted = list(dict.fromkeys(p.capped("occupationIds", data.get("occupation_ids"))))
    known = await existing_occupation_ids(db, wanted)
    for i, oid in enumerate(wanted):
        if oid not in known:
            p.add(f"occupationIds[{i}]", "ukendt stilling.", "unknown occupation.")
    radius = data.get("radius_km")
    if radius is None or not 1 <= radius <= 500:
        p.add("radiusKm", "skal være mellem 1 og 500 km.", "must be 1-500 km.")
    hours = p.choice("hours", data.get("hours") or "ANY", HOURS)
    return wanted, radius, hours


async def update_preferences(db, engine: MatchingEngine, actor: Actor, data: dict) -> dict:
    p = Problems()
    wanted, radius, hours = await check_job_wishes(db, p, data)
    contracts = list(dict.fromkeys(p.capped("contractTypes", data.get("contract_types"))))
    for i, ct in enumerate(contracts):
        p.choice(f"contractTypes[{i}]", ct, CONTRACT_TYPES)
    today = _now().date()
    start: date | None = p.day(
        "earliestStart", data.get("earliest_start"), required=False,
        earliest=today - EARLIEST_START_BACK, latest=today + EARLIEST_START_AHEAD,
    )  # fmt: skip
    p.raise_if_any()
    prefs = {
        "occupationIds": wanted,
        "radiusKm": radius,
        "hours": hours,
        "contractTypes": contracts,
        "earliestStart": datetime.combine(start, time(), UTC) if start else None,
    }
    citizen = await require_citizen(db, actor)
    updated = await repository.update_citizen(
        db, actor.id, {"preferences": prefs, "updatedAt": _now()}
    )
    if updated is None:  # erased between the two calls
        raise no_profile()
    await refresh_profile(db, engine, updated, changed=citizen["preferences"] != prefs)
    return updated


# --- privacy --------------------------------------------------------------------------------
def consent_events(
    citizen_id: str, before: dict, after: dict, at: datetime, source: str
) -> list[dict]:
    """One history entry per setting whose value changed."""
    flat_before = _flatten(before)
    events = []
    for setting, value in _flatten(after).items():
        if flat_before.get(setting) != value:
            events.append(
                {
                    "_id": uuid.uuid4().hex,
                    "citizenId": citizen_id,
                    "setting": setting,
                    "value": str(value).lower() if isinstance(value, bool) else value,
                    "at": at,
                    "source": source,
                }
            )
    return events


def _flatten(consents: dict) -> dict[str, Any]:
    flat = {k: v for k, v in consents.items() if k != "push"}
    for category, on in consents.get("push", {}).items():
        flat[f"push.{category}"] = on
    return flat


async def update_privacy(db, engine: MatchingEngine, actor: Actor, data: dict) -> dict:
    p = Problems()
    visibility = p.choice(
        "employerVisibility", data.get("employer_visibility"), EMPLOYER_VISIBILITY
    )
    # One entry per category is all a form needs; a longer list is refused whole.
    push = p.capped("pushCategories", data.get("push_categories"), limit=len(PUSH_CATEGORIES))
    for i, item in enumerate(push):
        p.choice(f"pushCategories[{i}].category", item["category"], PUSH_CATEGORIES)
    p.raise_if_any()
    now = _now()

    async def work(session) -> dict:
        citizen = await require_citizen(db, actor, session)
        before = citizen.get("consents") or {}
        after = {**DEFAULT_CONSENTS, **before}
        after["push"] = {**DEFAULT_CONSENTS["push"], **before.get("push", {})}
        if data.get("profiling") is not None:
            after["profiling"] = bool(data["profiling"])
        if visibility is not None:
            after["employerVisibility"] = visibility
        for item in push:
            after["push"][item["category"]] = bool(item["enabled"])
        events = consent_events(actor.id, before, after, now, "APP")
        if not events:
            return citizen
        await repository.insert_consent_events(db, events, session)
        if not after["profiling"]:
            # The embedding goes in the same transaction that records the choice.
            await engine.forget_profile(db, actor.id, session=session)
        return await repository.update_citizen(
            db, actor.id, {"consents": after, "updatedAt": now}, session
        )

    updated = await in_transaction(db, work)
    await refresh_profile(db, engine, updated, changed=True)
    return updated


async def consent_history(db, actor: Actor, first: int, after: tuple | None) -> list[dict]:
    return await repository.consent_events_page(db, actor.id, first, after)


# --- CVs ------------------------------------------------------------------------------------
async def clean_cv(db, data: dict) -> dict:
    p = Problems()
    name = p.text("name", "Mit CV" if data.get("name") is None else data["name"], max_len=60)
    jobs = []
    work_history = p.capped("workHistory", data.get("work_history"))
    occupation_ids = [j["occupation_id"] for j in work_history if j.get("occupation_id")]
    known = await existing_occupation_ids(db, occupation_ids)
    for i, j in enumerate(work_history):
        path = f"workHistory[{i}]"
        start = p.month(f"{path}.start", j.get("start"), required=True)
        end = p.month(f"{path}.end", j.get("end"), required=False)
        if start and end and end < start:
            p.add(f"{path}.end", "slutter før den starter.", "ends before it starts.")
        oid = j.get("occupation_id")
        if oid and oid not in known:
            p.add(f"{path}.occupationId", "ukendt stilling.", "unknown occupation.")
        jobs.append(
            {
                "title": p.text(f"{path}.title", j.get("title"), max_len=100),
                "occupationId": oid or None,
                "employer": p.text(
                    f"{path}.employer", j.get("employer"), max_len=100, required=False
                ),
                "start": start,
                "end": end,
                "description": p.text(
                    f"{path}.description",
                    j.get("description"),
                    max_len=2000,
                    required=False,
                    multiline=True,
                ),
            }
        )
    jobs.sort(key=lambda j: (j["end"] or "9999-12", j["start"] or ""), reverse=True)
    education = []
    for i, e in enumerate(p.capped("education", data.get("education"))):
        path = f"education[{i}]"
        education.append(
            {
                "title": p.text(f"{path}.title", e.get("title"), max_len=150),
                "level": p.choice(f"{path}.level", e.get("level"), EDUCATION_LEVELS),
                "institution": p.text(
                    f"{path}.institution", e.get("institution"), max_len=150, required=False
                ),
                "completedYear": year(p, f"{path}.completedYear", e.get("completed_year")),
            }
        )
    languages = []
    seen: set[str] = set()
    for i, lang in enumerate(p.capped("languages", data.get("languages"))):
        path = f"languages[{i}]"
        name_ = p.text(f"{path}.language", lang.get("language"), max_len=40)
        if name_ and name_.casefold() in seen:
            p.add(f"{path}.language", "står der allerede.", "is already listed.")
        seen.add((name_ or "").casefold())
        languages.append(
            {
                "language": name_.lower() if name_ else name_,
                "level": p.choice(f"{path}.level", lang.get("level"), LANGUAGE_LEVELS),
            }
        )
    licences = list(dict.fromkeys(p.capped("drivingLicences", data.get("driving_licences"))))
    for i, lic in enumerate(licences):
        p.choice(f"drivingLicences[{i}]", lic, DRIVING_LICENCES)
    cv = {
        "name": name,
        "workHistory": jobs,
        "education": education,
        "courses": p.tags("courses", data.get("courses"), max_len=100),
        "languages": languages,
        "drivingLicences": licences,
        "skills": p.tags("skills", data.get("skills"), max_len=60),
    }
    p.raise_if_any()
    return cv


async def list_cvs(db, actor: Actor) -> list[dict]:
    return await repository.cvs_of(db, actor.id)


async def get_cv(db, actor: Actor, cv_id: str) -> dict:
    cv = await repository.get_cv(db, actor.id, cv_id)
    if cv is None:
        raise cv_not_found()
    return cv


def cv_not_found() -> NotFound:
    return NotFound("CV'et findes ikke.", "The CV does not exist.")


async def create_cv(
    db, engine: MatchingEngine, actor: Actor, data: dict, primary: bool = False
) -> dict:
    fields = await clean_cv(db, data)
    return await _add_cv(db, engine, actor, fields, primary)


async def duplicate_cv(db, engine: MatchingEngine, actor: Actor, cv_id: str, name: str) -> dict:
    source = await get_cv(db, actor, cv_id)
    p = Problems()
    clean_name = p.text("name", name, max_len=60)
    p.raise_if_any()
    fields = {k: source[k] for k in ("workHistory", "education", "courses", "languages",
                                     "drivingLicences", "skills")}  # fmt: skip
    return await _add_cv(db, engine, actor, fields | {"name": clean_name}, primary=False)


async def _add_cv(db, engine, actor: Actor, fields: dict, primary: bool) -> dict:
    now = _now()

    async def work(session) -> dict:
        await require_citizen(db, actor, session)
        existing = await repository.cvs_of(db, actor.id, session)
        if len(existing) >= MAX_CVS:
            raise Conflict(
                f"Du kan højst have {MAX_CVS} CV'er. Slet et, før du laver et nyt.",
                f"You can have {MAX_CVS} CVs at most. Delete one before making a new one.",
            )
        doc = {
            "_id": uuid.uuid4().hex,
            "citizenId": actor.id,
            **fields,
            "primary": primary or not existing,  # the first CV is the primary one
            "createdAt": now,
            "updatedAt": now,
        }
        await repository.insert_cv(db, doc, session)
        if doc["primary"]:
            await repository.set_primary(db, actor.id, doc["_id"], now, session)
        return doc

    doc = await in_transaction(db, work)
    if doc["primary"]:
        await refresh_profile(db, engine, await repository.get_citizen(db, actor.id))
    return doc


async def update_cv(db, engine: MatchingEngine, actor: Actor, cv_id: str, data: dict) -> dict:
    fields = await clean_cv(db, data)

    async def work(session) -> dict:
        cv = await repository.get_cv(db, actor.id, cv_id, session)
        if cv is None:
            raise cv_not_found()
        doc = cv | fields | {"updatedAt": _now()}
        await repository.replace_cv(db, doc, session)
        return doc

    doc = await in_transaction(db, work)
    if doc.get("primary"):
        await refresh_profile(db, engine, await repository.get_citizen(db, actor.id))
    return doc


async def set_primary_cv(db, engine: MatchingEngine, actor: Actor, cv_id: str) -> dict:
    async def work(session) -> dict:
        cv = await repository.get_cv(db, actor.id, cv_id, session)
        if cv is None:
            raise cv_not_found()
        now = _now()
        await repository.set_primary(db, actor.id, cv_id, now, session)
        return cv | {"primary": True, "updatedAt": now}

    doc = await in_transaction(db, work)
    await refresh_profile(db, engine, await repository.get_citizen(db, actor.id))
    return doc


async def delete_cv(db, engine: MatchingEngine, actor: Actor, cv_id: str) -> bool:
    """Delete one CV. Deleting the primary makes the most recently changed other CV primary."""

    async def work(session) -> bool:
        cv = await repository.get_cv(db, actor.id, cv_id, session)
        if cv is None:
            raise cv_not_found()
        await repository.delete_cv(db, actor.id, cv_id, session)
        if cv.get("primary"):
            rest = await repository.cvs_of(db, actor.id, session)
            if rest:
                await repository.set_primary(db, actor.id, rest[0]["_id"], _now(), session)
        return bool(cv.get("primary"))

    was_primary = await in_transaction(db, work)
    if was_primary:
        await refresh_profile(db, engine, await repository.get_citizen(db, actor.id))
    return True


# --- matching -------------------------------------------------------------------------------
async def refresh_profile(
    db, engine: MatchingEngine, citizen: dict | None, *, changed: bool = True
) -> bool:
    """Re-embed the citizen's profile after a change, unless profiling is off, and keep a job
    agent the citizen never edited in step with the CV. When the engine is still loading, the
    next suggestion request embeds it instead (the stored vector carries the hash of the text
    it came from, so a stale one is never used)."""
    if not changed or citizen is None or not engine.ready:
        return False
    await jobagent.sync_basic_agent(
        db, engine, citizen, await repository.primary_cv(db, citizen["_id"])
    )
    if not (citizen.get("consents") or {}).get("profiling", True):
        return False
    cv = await repository.primary_cv(db, citizen["_id"]) or {}
    wanted = [
        o for o in citizen.get("preferences", {}).get("occupationIds", [])
        if o in engine.occupation_isco
    ]  # fmt: skip
    await engine.profile_vector(db, citizen["_id"], cv, wanted)
    return True
