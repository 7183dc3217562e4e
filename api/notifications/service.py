"""Devices, notification preferences, the inbox and the job agent, for the signed-in user."""

from __future__ import annotations

import re

from api.auth.actor import Actor, Role
from api.citizens import repository as citizens
from api.citizens import service as citizen_service
from api.directory import DIRECTORY
from api.validation import Problems
from core.errors import Conflict, NotFound
from matching.engine import MatchingEngine
from notifications import devices, inbox, jobagent, preferences

MAX_KEYWORDS = 20


# A Firebase installation ID (FID): 22 characters of URL-safe base64.
INSTALLATION_ID = re.compile(r"[A-Za-z0-9_-]{22}")


def token_taken() -> Conflict:
    return Conflict(
        "Enheden er allerede tilmeldt notifikationer for en anden konto. Log ud på den anden "
        "konto i appen, eller hent et nyt push-token, og prøv igen.",
        "This device is already registered for notifications for another account. Sign out "
        "of the other account in the app, or get a new push token, and try again.",
        extensions={"reason": "DEVICE_TOKEN_TAKEN"},
    )


async def register_device(db, actor: Actor, data: dict) -> dict:
    """A push token belongs to one account. It moves to another account only from the same
    app installation (the Firebase installation ID), as when someone signs in on a phone that
    the previous user left signed in; anything else answers CONFLICT and changes nothing."""
    p = Problems()
    token = p.text("token", data.get("token"), max_len=4096)
    platform = p.choice("platform", data.get("platform"), devices.PLATFORMS)
    version = p.text("appVersion", data.get("app_version"), max_len=40)
    locale = p.choice("locale", data.get("locale") or "da", ("da", "en"))
    installation = p.text("installationId", data.get("installation_id"), max_len=22)
    if installation and not p.has("installationId") and not INSTALLATION_ID.fullmatch(installation):
        p.add("installationId", "skal være appens Firebase-installations-id (22 tegn).",
              "must be the app's Firebase installation ID (22 characters).")  # fmt: skip
    p.raise_if_any()
    try:
        return await devices.register(
            db, user_id=actor.id, role=actor.role.value, token=token, platform=platform,
            app_version=version, locale=locale, installation_id=installation,
        )  # fmt: skip
    except devices.TokenTaken:
        raise token_taken() from None


async def unregister_device(db, actor: Actor, token: str) -> bool:
    if not await devices.unregister(db, actor.id, token):
        raise NotFound("Enheden er ikke registreret.", "The device is not registered.")
    return True


async def my_devices(db, actor: Actor) -> list[dict]:
    return await devices.of_user(db, actor.id)


async def get_preferences(db, actor: Actor) -> preferences.Preferences:
    return await preferences.get(db, DIRECTORY, actor.id)


def _clock(p: Problems, path: str, value: str | None) -> str | None:
    if value is None:
        return None
    try:
        hh, mm = value.split(":")
        if 0 <= int(hh) < 24 and 0 <= int(mm) < 60 and len(mm) == 2:
            return f"{int(hh):02d}:{mm}"
    except ValueError:
        pass
    p.add(path, "skal være et klokkeslæt som 21:00.", "must be a time like 21:00.")
    return None


async def update_preferences(db, engine: MatchingEngine, actor: Actor, data: dict):
    p = Problems()
    # One entry per category is all a form needs; a longer list is refused whole.
    categories = p.capped("categories", data.get("categories"), limit=len(preferences.CATEGORIES))
    for i, item in enumerate(categories):
        p.choice(f"categories[{i}].category", item["category"], preferences.CATEGORIES)
    fields: dict = {}
    if data.get("quiet_hours_off"):
        fields |= {"quietStart": None, "quietEnd": None}
    else:
        start = _clock(p, "quietHoursStart", data.get("quiet_hours_start"))
        end = _clock(p, "quietHoursEnd", data.get("quiet_hours_end"))
        if (start is None) != (end is None):
            p.add("quietHoursEnd", "angiv både start og slut.", "give both start and end.")
        elif start is not None:
            fields |= {"quietStart": start, "quietEnd": end}
    cap = data.get("daily_cap")
    if cap is not None:
        if not 0 <= cap <= 100:
            p.add("dailyCap", "skal være 0-100.", "must be 0-100.")
        fields["dailyCap"] = cap
    p.raise_if_any()
    if categories:
        if actor.role is Role.CITIZEN:
            # A citizen's categories are consents: changed (and recorded) there.
            await citizen_service.update_privacy(db, engine, actor, {"push_categories": categories})
        else:
            current = await preferences.get(db, DIRECTORY, actor.id)
            merged = current.categories | {i["category"]: bool(i["enabled"]) for i in categories}
            fields["categories"] = merged
    if fields:
        await preferences.save(db, actor.id, fields)
    return await preferences.get(db, DIRECTORY, actor.id)


async def notifications_page(db, actor: Actor, first: int, after, unread_only: bool):
    return await inbox.page(db, actor.id, first, after, unread_only)


async def mark_read(db, actor: Actor, entry_id: str) -> dict:
    doc = await inbox.mark_read(db, actor.id, entry_id)
    if doc is None:
        raise NotFound("Beskeden findes ikke.", "The message does not exist.")
    return doc


# --- the job agent -------------------------------------------------------------------------------
async def my_agent(db, engine: MatchingEngine, actor: Actor) -> dict:
    citizen = await citizen_service.require_citizen(db, actor)
    cv = await citizens.primary_cv(db, actor.id)
    return await jobagent.ensure_agent(db, engine, citizen, cv)


async def update_agent(db, engine: MatchingEngine, actor: Actor, data: dict) -> dict:
    citizen = await citizen_service.require_citizen(db, actor)
    p = Problems()
    occupations, radius, hours = await citizen_service.check_job_wishes(db, p, data)
    keywords = p.tags("keywords", data.get("keywords"), max_len=40)
    if len(keywords) > MAX_KEYWORDS:
        p.add("keywords", f"højst {MAX_KEYWORDS}.", f"{MAX_KEYWORDS} at most.")
    cadence = p.choice("cadence", data.get("cadence") or "DAILY", jobagent.CADENCES)
    if not occupations and not keywords:
        p.add("occupationIds", "vælg mindst én stilling eller ét nøgleord.",
              "choose at least one occupation or keyword.")  # fmt: skip
    p.raise_if_any()
    fields = {
        "occupationIds": occupations,
        "radiusKm": radius,
        "hours": hours,
        "keywords": [k.lower() for k in keywords],
        "cadence": cadence,
        "active": bool(data.get("active", True)),
    }
    return await jobagent.save_agent(db, engine, citizen, fields)


async def agent_alerts(db, actor: Actor, first: int, after: tuple | None) -> list[dict]:
    return await jobagent.alerts_page(db, actor.id, first, after)
