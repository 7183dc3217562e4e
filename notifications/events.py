"""Meeting events turned into inbox entries and pushes, in each recipient's language.

new request -> the company's employer users; accepted, declined, expired, cancelled and moved
-> the other side; reminders the day before and 1 h before -> the citizen per meeting, the
company once per slot with the slot's candidates. Texts never carry more about the
citizen than the employer may see at that point (no names before acceptance). Each event has an
idempotency key, so repeating it (a retried transaction, two API instances) notifies once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from pymongo.asynchronous.database import AsyncDatabase

from .directory import Directory, Recipient
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
    # The company's reminders: one per slot, with the slot's candidates ("3 kandidater: J., M.
    # og Mette Kjær.", the sentence's full stop included; names only of citizens who chose to
    # be shown by name).
    "reminder-24h-company": Template(
        "REMINDERS",
        "Kaffemøde i morgen",
        "Husk kaffemødet {when}: {offer} ({place}) med {candidates}",
        "Coffee meeting tomorrow",
        "Remember the coffee meeting {when}: {offer} ({place}) with {candidates}",
        payload_type="meeting-reminder",
    ),
    "reminder-1h-company": Template(
        "REMINDERS",
        "Kaffemøde om en time",
        "Kaffemødet {offer} begynder {when} ({place}) med {candidates}",
        "Coffee meeting in an hour",
        "The coffee meeting {offer} starts {when} ({place}) with {candidates}",
        payload_type="meeting-reminder",
        critical=True,
    ),
}


async def send(
    db: AsyncDatabase,
    kind: str,
    recipients: Iterable[Recipient],
    key: str,
    route: str,
    values: dict,
    *,
    session: Any = None,
    now: datetime | None = None,
) -> int:
    """The event ``kind`` to each recipient, in their language; how many were new."""
    template = TEMPLATES[kind]
    sent = 0
    for r in recipients:
        sent += await notify(
            db,
            recipient_id=r.id,
            recipient_role=r.role,
            category=template.category,
            key=key,
            text=template.text(r.locale, **values),
            locale=r.locale,
            route=route,
            payload_type=template.payload_type,
            critical=template.critical,
            session=session,
            now=now,
        )
    return sent


async def to_citizen(
    db: AsyncDatabase,
    directory: Directory,
    kind: str,
    citizen_id: str,
    key: str,
    route: str,
    values: dict,
    *,
    session: Any = None,
    now: datetime | None = None,
) -> bool:
    """The event to one citizen; nothing when the account is gone."""
    locales = await directory.citizen_locales(db, [citizen_id], session=session)
    if citizen_id not in locales:
        return False
    recipient = Recipient(citizen_id, "citizen", locales[citizen_id])
    return bool(await send(db, kind, [recipient], key, route, values, session=session, now=now))


async def to_company(
    db: AsyncDatabase,
    directory: Directory,
    kind: str,
    cvr: str,
    key: str,
    route: str,
    values: dict,
    *,
    session: Any = None,
    now: datetime | None = None,
) -> int:
    """The event to each employer user of the company."""
    recipients = await directory.company_recipients(db, cvr, session=session)
    return await send(db, kind, recipients, key, route, values, session=session, now=now)


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
