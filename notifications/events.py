"""Meeting events turned into inbox entries and pushes, in each recipient's language.

new request -> the company's employer users; accepted, declined, expired, cancelled and moved
-> the other side; reminders 24 h and 1 h before -> both. Texts never carry more about the
citizen than the employer may see at that point (no names before acceptance). Each event has an
idempotency key, so repeating it (a retried transaction, two API instances) notifies once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from pymongo.asynchronous.database import AsyncDatabase

from store import collections as c

from .inbox import Text, notify

COPENHAGEN = ZoneInfo("Europe/Copenhagen")
_DAYS_DA = ("mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag", "søndag")
_MONTHS_DA = ("januar", "februar", "marts", "april", "maj", "juni", "juli", "august",
              "september", "oktober", "november", "december")  # fmt: skip


def when(at: datetime, locale: str) -> str:
    """A meeting time as people say it, in Danish time."""
    local = at.astimezone(COPENHAGEN)
    if locale == "en":
        return local.strftime("%A %-d %B at %H:%M")
    return (
        f"{_DAYS_DA[local.weekday()]} {local.day}. {_MONTHS_DA[local.month - 1]} kl. {local:%H:%M}"
    )


@dataclass(frozen=True)
class Template:
    category: str
    title_da: str
    body_da: str
    title_en: str
    body_en: str
    payload_type: str = "meeting-update"
    critical: bool = False  # goes through quiet hours and the daily cap

    def text(self, locale: str, **values: str) -> Text:
        v_da = {k: (x(locale="da") if callable(x) else x) for k, x in values.items()}
        v_en = {k: (x(locale="en") if callable(x) else x) for k, x in values.items()}
        return Text(
            self.title_da.format(**v_da),
            self.body_da.format(**v_da),
            self.title_en.format(**v_en),
            self.body_en.format(**v_en),
        )


TEMPLATES: dict[str, Template] = {
    "request-created": Template(
        "MEETINGS",
        "Ny anmodning om kaffemøde",
        "En kandidat vil gerne mødes: {offer}.",
        "New coffee-meeting request",
        "A candidate would like to meet: {offer}.",
        payload_type="meeting-request",
    ),
    "request-accepted": Template(
        "MEETINGS",
        "Dit kaffemøde er bekræftet",
        "{company} vil gerne mødes med dig {when}: {offer}.",
        "Your coffee meeting is confirmed",
        "{company} would like to meet you {when}: {offer}.",
    ),
    "request-declined": Template(
        "MEETINGS",
        "Svar fra {company}",
        "{company} kan desværre ikke mødes denne gang ({offer}). Der venter andre kaffemøder "
        "på dig.",
        "Reply from {company}",
        "{company} cannot meet this time ({offer}). Other coffee meetings are waiting for you.",
    ),
    "request-expired": Template(
        "MEETINGS",
        "Din anmodning er udløbet",
        "{company} nåede ikke at svare på din anmodning om {offer}. Det siger ikke noget om "
        "dig. Prøv gerne et af de andre kaffemøder.",
        "Your request has expired",
        "{company} did not reply to your request for {offer} in time. It says nothing about "
        "you. Do try one of the other coffee meetings.",
    ),
    "request-withdrawn": Template(
        "MEETINGS",
        "En kandidat har trukket sin anmodning tilbage",
        "En kandidat har trukket sin anmodning om kaffemøde tilbage: {offer}.",
        "A candidate withdrew their request",
        "A candidate withdrew their coffee-meeting request: {offer}.",
    ),
    "meeting-cancelled": Template(
        "MEETINGS",
        "Kaffemøde aflyst",
        "{by} har aflyst kaffemødet {when}: {offer}.",
        "Coffee meeting cancelled",
        "{by} cancelled the coffee meeting {when}: {offer}.",
        critical=True,
    ),
    "meeting-rescheduled": Template(
        "MEETINGS",
        "Kaffemøde flyttet",
        "{by} har flyttet kaffemødet {offer} til {when}.",
        "Coffee meeting moved",
        "{by} moved the coffee meeting {offer} to {when}.",
        critical=True,
    ),
    "reminder-24h": Template(
        "REMINDERS",
        "Kaffemøde i morgen",
        "Husk kaffemødet {when}: {offer} ({place}).",
        "Coffee meeting tomorrow",
        "Remember the coffee meeting {when}: {offer} ({place}).",
        payload_type="meeting-reminder",
    ),
    "reminder-1h": Template(
        "REMINDERS",
        "Kaffemøde om en time",
        "Kaffemødet {offer} begynder {when} ({place}).",
        "Coffee meeting in an hour",
        "The coffee meeting {offer} starts {when} ({place}).",
        payload_type="meeting-reminder",
        critical=True,
    ),
}


async def _citizen_locale(db: AsyncDatabase, citizen_id: str, session: Any) -> str | None:
    doc = await db[c.CITIZENS].find_one({"_id": citizen_id}, {"locale": 1}, session=session)
    return (doc.get("locale") or "da") if doc else None


async def _employers(db: AsyncDatabase, cvr: str, session: Any) -> list[tuple[str, str]]:
    cursor = db[c.EMPLOYERS].find({"cvr": cvr}, {"locale": 1}, session=session)
    return [(d["_id"], d.get("locale") or "da") async for d in cursor]


async def _send(
    db: AsyncDatabase,
    kind: str,
    recipient: tuple[str, str, str],  # id, role, locale
    key: str,
    route: str,
    values: dict,
    session: Any,
    now: datetime | None,
) -> bool:
    template = TEMPLATES[kind]
    recipient_id, role, locale = recipient
    return await notify(
        db,
        recipient_id=recipient_id,
        recipient_role=role,
        category=template.category,
        key=key,
        text=template.text(locale, **values),
        locale=locale,
        route=route,
        payload_type=template.payload_type,
        critical=template.critical,
        session=session,
        now=now,
    )


async def to_citizen(
    db: AsyncDatabase,
    kind: str,
    citizen_id: str,
    key: str,
    route: str,
    values: dict,
    *,
    session: Any = None,
    now: datetime | None = None,
) -> bool:
    locale = await _citizen_locale(db, citizen_id, session)
    if locale is None:  # the account is gone
        return False
    recipient = (citizen_id, "citizen", locale)
    return await _send(db, kind, recipient, key, route, values, session, now)


async def to_company(
    db: AsyncDatabase,
    kind: str,
    cvr: str,
    key: str,
    route: str,
    values: dict,
    *,
    session: Any = None,
    now: datetime | None = None,
) -> int:
    sent = 0
    for employer_id, locale in await _employers(db, cvr, session):
        recipient = (employer_id, "employer", locale)
        sent += await _send(db, kind, recipient, key, route, values, session, now)
    return sent


def at_time(at: datetime):
    """A time value rendered in each recipient's language."""
    return lambda locale: when(at, locale)


def by_role(role: str):
    """Who did it, as the other side reads it."""
    names = {
        "citizen": ("Kandidaten", "The candidate"),
        "employer": ("Virksomheden", "The company"),
    }
    da, en = names[role]
    return lambda locale: en if locale == "en" else da


async def retract(db: AsyncDatabase, key: str, *, session: Any = None) -> int:
    """Take back a notification whose cause was undone: it leaves the inboxes, and pushes not
    yet sent are dropped (one already delivered cannot be recalled)."""
    cursor = db[c.INBOX].find({"key": key}, {"_id": 1}, session=session)
    ids = [d["_id"] async for d in cursor]
    if not ids:
        return 0
    await db[c.INBOX].delete_many({"_id": {"$in": ids}}, session=session)
    await db[c.OUTBOX].delete_many(
        {"_id": {"$in": ids}, "status": {"$in": ["pending", "sending"]}}, session=session
    )
    return len(ids)
