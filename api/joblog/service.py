"""Registering applications (Dine søgte job) and saving postings.

Entries are the citizen's own; the app adds some itself: applying to a posting through the app
(``apply_to_job``) and a coffee meeting that took place (``record_meeting_held``, called by the
meetings feature). Automatic entries have fixed ids, so repeating the event adds nothing.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta

from api.auth.actor import Actor
from api.citizens.service import require_citizen
from api.jobs.repository import get_posting
from api.validation import Problems
from core.errors import Conflict, NotFound

from . import repository

KINDS = ("POSTING", "UNSOLICITED")
FORMS = ("WRITTEN", "IN_PERSON", "PHONE", "EMAIL", "VIDEO")
STATUSES = ("SENT", "INTERVIEW", "REJECTED", "HIRED")
MAX_SAVED = 500
OLDEST_DAYS = 5 * 365


def _now() -> datetime:
    return datetime.now(UTC)


def _day(d: date) -> datetime:
    return datetime.combine(d, time(), UTC)


def entry_not_found() -> NotFound:
    return NotFound("Ansøgningen findes ikke i din log.", "The application is not in your log.")


async def _clean(db, data: dict, stored: dict | None = None) -> dict:
    """The entry's fields from the form, checked. ``stored`` is the entry being updated: its
    posting may have been removed since, which is no reason to refuse other changes."""
    p = Problems()
    applied: date | None = data.get("applied_on")
    today = _now().date()
    if applied is None:
        p.add("appliedOn", "skal udfyldes.", "is required.")
    elif applied > today:
        p.add("appliedOn", "må ikke ligge i fremtiden.", "must not be in the future.")
    elif applied < today - timedelta(days=OLDEST_DAYS):
        p.add("appliedOn", "ligger mere end 5 år tilbage.", "is more than 5 years ago.")
    kind = p.choice("kind", data.get("kind") or "POSTING", KINDS)
    form = p.choice("form", data.get("form"), FORMS)
    if form is None:
        p.add("form", "skal udfyldes.", "is required.")
    status = p.choice("status", data.get("status") or "SENT", STATUSES)
    posting = None
    posting_id = data.get("posting_id")
    kept_posting = stored is not None and posting_id and posting_id == stored.get("postingId")
    if posting_id:
        posting = await get_posting(db, str(posting_id))
        if posting is None and kept_posting:
            posting = {"_id": stored["postingId"], "companyCvr": stored.get("companyCvr")}
        if posting is None:
            p.add("postingId", "jobopslaget findes ikke.", "the job posting does not exist.")
        elif kind != "POSTING":
            p.add("kind", "et jobopslag er ikke uopfordret.", "a posting is not unsolicited.")
    company = p.text(
        "companyName",
        data.get("company_name") or (posting or {}).get("companyName"),
        max_len=120,
    )
    title = p.text("jobTitle", data.get("job_title") or (posting or {}).get("title"), max_len=100)
    note = p.text("note", data.get("note"), max_len=1000, required=False, multiline=True)
    p.raise_if_any()
    return {
        "appliedOn": _day(applied),
        "kind": kind,
        "form": form,
        "status": status,
        "postingId": posting["_id"] if posting else None,
        "companyCvr": posting["companyCvr"] if posting else None,
        "companyName": company,
        "jobTitle": title,
        "note": note,
    }


async def add_entry(db, actor: Actor, data: dict) -> dict:
    await require_citizen(db, actor)
    fields = await _clean(db, data)
    now = _now()
    doc = {
        "_id": uuid.uuid4().hex,
        "citizenId": actor.id,
        **fields,
        "source": "MANUAL",
        "createdAt": now,
        "updatedAt": now,
    }
    await repository.insert_entry(db, doc)
    return doc


# Fields an update may not clear with null (the others may: note, posting_id, company_name,
# job_title); left out, every field keeps its value.
REQUIRED = {"applied_on": "appliedOn", "form": "form", "kind": "kind", "status": "status"}


async def update_entry(db, actor: Actor, entry_id: str, changes: dict) -> dict:
    """A partial update: only the fields in ``changes`` change (the GraphQL layer leaves out
    what the app left out). Null clears note and postingId; null companyName or jobTitle on
    an entry with a posting follows the posting again; a new posting brings its company and
    title unless they are given too. The whole entry is then checked as when adding."""
    stored = await repository.get_entry(db, actor.id, entry_id)
    if stored is None:
        raise entry_not_found()
    p = Problems()
    for name, path in REQUIRED.items():
        if name in changes and changes[name] is None:
            p.add(path, "kan ikke ryddes.", "cannot be cleared.")
    p.raise_if_any()
    data = {
        "applied_on": stored["appliedOn"].date(),
        "form": stored["form"],
        "kind": stored["kind"],
        "status": stored["status"],
        "posting_id": stored.get("postingId"),
        "company_name": stored.get("companyName"),
        "job_title": stored.get("jobTitle"),
        "note": stored.get("note"),
    }
    if changes.get("posting_id") and changes["posting_id"] != stored.get("postingId"):
        data["company_name"] = data["job_title"] = None  # they follow the new posting
    data |= changes
    fields = await _clean(db, data, stored)
    doc = await repository.update_entry(db, actor.id, entry_id, fields | {"updatedAt": _now()})
    if doc is None:
        raise entry_not_found()
    return doc


async def delete_entry(db, actor: Actor, entry_id: str) -> bool:
    if not await repository.delete_entry(db, actor.id, entry_id):
        raise entry_not_found()
    return True


async def entries(db, actor: Actor, first: int, after) -> list[dict]:
    return await repository.entries_page(db, actor.id, first, after)


async def apply_to_job(db, actor: Actor, posting_id: str, form: str = "WRITTEN") -> dict:
    """The app's "Søg jobbet": the application is logged once per posting."""
    await require_citizen(db, actor)
    posting = await get_posting(db, posting_id)
    if posting is None:
        raise NotFound("Jobopslaget findes ikke.", "The job posting does not exist.")
    p = Problems()
    p.choice("form", form, FORMS)
    p.raise_if_any()
    now = _now()
    doc = {
        "_id": f"{actor.id}:app:{posting_id}",
        "citizenId": actor.id,
        "appliedOn": _day(now.date()),
        "kind": "POSTING",
        "form": form,
        "status": "SENT",
        "postingId": posting_id,
        "companyCvr": posting["companyCvr"],
        "companyName": posting.get("companyName", ""),
        "jobTitle": posting["title"],
        "note": None,
        "source": "APP",
        "createdAt": now,
        "updatedAt": now,
    }
    if not await repository.insert_entry(db, doc):
        return await repository.get_entry(db, actor.id, doc["_id"])
    return doc


async def record_meeting_held(
    db, *, citizen_id: str, meeting_id: str, company_cvr: str, company_name: str,
    title: str, held_on: date, video: bool, session=None,
) -> bool:  # fmt: skip
    """A coffee meeting that took place counts as job seeking; logged once per meeting."""
    now = _now()
    return await repository.insert_entry(
        db,
        {
            "_id": f"{citizen_id}:meeting:{meeting_id}",
            "citizenId": citizen_id,
            "appliedOn": _day(held_on),
            "kind": "UNSOLICITED",
            "form": "VIDEO" if video else "IN_PERSON",
            "status": "INTERVIEW",
            "postingId": None,
            "companyCvr": company_cvr,
            "companyName": company_name,
            "jobTitle": title,
            "note": None,
            "source": "MEETING",
            "meetingId": meeting_id,
            "createdAt": now,
            "updatedAt": now,
        },
        session=session,
    )


# --- saved jobs -----------------------------------------------------------------------------
async def save_job(db, actor: Actor, posting_id: str) -> dict:
    await require_citizen(db, actor)
    if await get_posting(db, posting_id) is None:
        raise NotFound("Jobopslaget findes ikke.", "The job posting does not exist.")
    if await repository.count_saved(db, actor.id) >= MAX_SAVED:
        raise Conflict(
            f"Du kan højst gemme {MAX_SAVED} job. Fjern nogle først.",
            f"You can save {MAX_SAVED} jobs at most. Remove some first.",
        )
    return await repository.save_job(
        db,
        {
            "_id": f"{actor.id}:{posting_id}",
            "citizenId": actor.id,
            "postingId": posting_id,
            "savedAt": _now(),
        },
    )


async def unsave_job(db, actor: Actor, posting_id: str) -> bool:
    if not await repository.unsave_job(db, actor.id, posting_id):
        raise NotFound("Jobbet er ikke gemt.", "The job is not saved.")
    return True


async def saved_jobs(db, actor: Actor, first: int, after) -> list[dict]:
    return await repository.saved_page(db, actor.id, first, after)
