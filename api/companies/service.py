"""The employer's company profile (virksomhed). The CVR comes from the employer's account and
is checked with mod-11; the rest the employer keeps up to date."""

from __future__ import annotations

from datetime import UTC, datetime

from pymongo.errors import PyMongoError

from api.auth.actor import Actor, Role
from api.errors import outage_reason
from api.validation import Problems, postal_place
from core.cvr import is_valid_cvr
from core.errors import BadUserInput

from . import repository

SIZES = ("1-9", "10-49", "50-99", "100-249", "250+")


class EmployerAccounts:
    """Employer users become known with their first signed-in request: the company's events
    (new requests, moved meetings, reminders) go to every employer user acting for it. Written
    once per process and (user, company), so a request costs no write after the first."""

    MAX_REMEMBERED = 100_000

    def __init__(self) -> None:
        self._known: set[tuple[str, str]] = set()

    async def note(self, db, actor: Actor, locale: str) -> None:
        if actor.role is not Role.EMPLOYER or not actor.cvr:
            return
        key = (actor.id, actor.cvr)
        if key in self._known:
            return
        try:
            await repository.note_employer(db, actor.id, actor.cvr, locale, datetime.now(UTC))
        except PyMongoError as exc:
            if outage_reason(exc) is not None:
                raise  # answered as the outage it is (UNAVAILABLE), at once
            return  # noted on a later request
        if len(self._known) >= self.MAX_REMEMBERED:
            self._known.clear()
        self._known.add(key)


async def update_company(db, actor: Actor, data: dict) -> dict:
    if not actor.cvr or not is_valid_cvr(actor.cvr):
        raise BadUserInput("Kontoen har ikke et gyldigt CVR-nummer.",
                           "The account has no valid CVR number.")  # fmt: skip
    p = Problems()
    name = p.text("name", data.get("name"), max_len=120)
    industry = p.text("industry", data.get("industry"), max_len=80)
    street = p.text("street", data.get("street"), max_len=120)
    size = p.choice("size", data.get("size"), SIZES)
    website = p.text("website", data.get("website"), max_len=200, required=False)
    if website and not website.startswith(("https://", "http://")):
        p.add("website", "skal begynde med https://.", "must start with https://.")
    place = postal_place(p, data.get("postal_code"))
    town = p.text("town", data.get("town"), max_len=60, required=False)
    p.raise_if_any()
    assert place is not None
    now = datetime.now(UTC)
    fields = {
        "name": name,
        "industry": industry,
        "street": street,
        "postalCode": place.postal_code,
        "town": town or place.town,
        "kommune": place.kommune,
        "region": place.region,
        "location": {"type": "Point", "coordinates": [place.lon, place.lat]},
        "size": size,
        "website": website,
        "updatedAt": now,
    }
    return await repository.upsert_company(db, actor.cvr, fields, now)


async def my_company(db, actor: Actor) -> dict | None:
    return await repository.get_company(db, actor.cvr) if actor.cvr else None
