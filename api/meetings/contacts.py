"""Who each side of a confirmed meeting meets: the company sees the citizen's name and contact
details while the meeting is on and for a set time after it (``rules.contact_details_shown``;
afterwards, and once it is cancelled, only the initial), the citizen sees the company's first
employer user (or the company's name). Read through per-request DataLoaders, so a list of
meetings costs a fixed number of queries."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from api.companies import repository as companies

from .rules import erased_name


@dataclass(frozen=True)
class Contact:
    name: str | None
    email: str | None
    phone: str | None
    withheld: bool = False  # the details exist but are no longer shown


def initial(first_name: str | None) -> str:
    """The initial ("J." for Jonas): the first letter of the first name, never a digit, a
    mark or an invisible character (even in a name stored before names were checked)."""
    letter = next((ch for ch in first_name or "" if ch.isalpha()), None)
    return f"{letter.upper()}." if letter else "–"


def _full_name(person: dict) -> str:
    return " ".join(p for p in (person.get("firstName"), person.get("lastName")) if p)


def erased_contact(locale: str) -> Contact:
    """The contact of a citizen who erased their account: nothing of the person."""
    return Contact(name=erased_name(locale), email=None, phone=None)


def is_anonymised(doc: dict) -> bool:
    """A request or meeting whose citizen erased their account (``api.privacy.repository``
    keeps the non-personal fields and marks the document)."""
    return "anonymisedAt" in doc


def citizen_contact(citizen: dict | None) -> Contact:
    """What the company learns of the citizen (an erased citizen leaves an empty name)."""
    person = citizen or {}
    return Contact(name=_full_name(person), email=person.get("email"), phone=person.get("phone"))


def withheld_contact(citizen: dict) -> Contact:
    """What the company keeps of the citizen once the meeting is cancelled or long over."""
    return Contact(name=initial(citizen.get("firstName")), email=None, phone=None, withheld=True)


def company_contact(employer: dict | None, company: dict | None) -> Contact:
    """What the citizen learns of the company: its first employer user, else its name."""
    person = employer or {}
    return Contact(
        name=_full_name(person) or (company or {}).get("name"),
        email=person.get("email"),
        phone=person.get("phone"),
    )


async def company_contacts(db, cvrs: Sequence[str]) -> list[Contact]:
    """The contact of each company, in the order asked (a DataLoader's batch)."""
    employers = await companies.first_employers(db, cvrs)
    found = await companies.companies_by_cvr(db, cvrs)
    return [
        company_contact(employers.get(cvr), company)
        for cvr, company in zip(cvrs, found, strict=True)
    ]
