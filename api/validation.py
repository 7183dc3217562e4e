"""Checks shared by every feature that takes input (citizens, joblog, postings, offers,
companies, notifications). All problems in one input are collected and answered together
(BAD_USER_INPUT with ``extensions.fields``), and nothing is written unless the whole input is
valid."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum

from api.scalars import clean_lines, nfc, text_problem
from core.errors import BadUserInput
from core.places import Place, place_for_postal_code

MAX_LIST = 50  # every list a user fills in


# Working hours and contract types: a citizen's wishes and a posting's terms use the same words.
# The GraphQL enums are these classes (each set of values is spelled once).
class Hours(StrEnum):
    FULL_TIME = "FULL_TIME"
    PART_TIME = "PART_TIME"
    ANY = "ANY"


class ContractType(StrEnum):
    PERMANENT = "PERMANENT"
    TEMPORARY = "TEMPORARY"
    SUBSTITUTE = "SUBSTITUTE"
    APPRENTICESHIP = "APPRENTICESHIP"
    FLEX_JOB = "FLEX_JOB"


HOURS: tuple[Hours, ...] = tuple(Hours)
CONTRACT_TYPES: tuple[ContractType, ...] = tuple(ContractType)

_MONTH = re.compile(r"^(19[4-9]\d|20\d\d)-(0[1-9]|1[0-2])$", re.ASCII)


@dataclass
class Problems:
    """Collects what is wrong with one input, with the field path the app can highlight."""

    items: list[dict[str, str]] = field(default_factory=list)

    def add(self, path: str, da: str, en: str) -> None:
        self.items.append({"field": path, "message": da, "messageEn": en})

    def has(self, path: str) -> bool:
        return any(item["field"] == path for item in self.items)

    def raise_if_any(self) -> None:
        if not self.items:
            return
        first = self.items[0]
        more = len(self.items) - 1
        da = f"{first['field']}: {first['message']}"
        en = f"{first['field']}: {first['messageEn']}"
        if more:
            da += f" (og {more} fejl mere)"
            en += f" (and {more} more)"
        raise BadUserInput(da, en, extensions={"fields": self.items})

    # --- common checks -------------------------------------------------------------------
    def text(
        self,
        path: str,
        value: str | None,
        *,
        max_len: int,
        required: bool = True,
        multiline: bool = False,
    ) -> str | None:
        """Free text, trimmed and NFC-normalised. Single-line text (names, titles, addresses
        ...) holds no control, bidi-override or zero-width character; multi-line text
        (descriptions, notes) keeps line feeds (any line break becomes one) and tabs."""
        v = nfc(value or "")
        if multiline:
            v = clean_lines(v)
        v = v.strip()
        if not v:
            if required:
                self.add(path, "skal udfyldes.", "is required.")
            return None
        if len(v) > max_len:
            self.add(
                path, f"må højst være {max_len} tegn.", f"must be {max_len} characters at most."
            )
        elif text_problem(v, multiline=multiline):
            self.add(
                path,
                "indeholder tegn, der ikke er tilladt (styretegn, retningstegn eller usynlige "
                "tegn).",
                "contains characters that are not allowed (control, text-direction or "
                "invisible characters).",
            )
        return v

    def capped(self, path: str, values: list | None, limit: int = MAX_LIST) -> list:
        """The list, or none of it when it is longer than ``limit``: an over-long list is one
        problem, and its items are not checked one by one."""
        values = list(values or [])
        if len(values) > limit:
            self.add(path, f"højst {limit} punkter.", f"{limit} items at most.")
            return []
        return values

    def day(
        self, path: str, value: date | None, *, earliest: date, latest: date, required: bool
    ) -> date | None:
        """A date within [earliest, latest]."""
        if value is None:
            if required:
                self.add(path, "skal udfyldes.", "is required.")
            return None
        if value < earliest:
            self.add(path, f"må ikke ligge før {earliest.isoformat()}.",
                     f"must not be before {earliest.isoformat()}.")  # fmt: skip
        elif value > latest:
            self.add(path, f"må ikke ligge efter {latest.isoformat()}.",
                     f"must not be after {latest.isoformat()}.")  # fmt: skip
        return value

    def choice(self, path: str, value: str | None, allowed: Iterable[str]) -> str | None:
        if value is not None and value not in allowed:
            self.add(path, "ukendt værdi.", "unknown value.")
        return value

    def tags(self, path: str, values: list[str] | None, *, max_len: int) -> list[str]:
        """Free-text tags: trimmed, empty ones dropped, duplicates (any case) removed."""
        out: dict[str, str] = {}
        for i, v in enumerate(self.capped(path, values)):
            t = self.text(f"{path}[{i}]", v, max_len=max_len, required=False)
            if t:
                out.setdefault(t.casefold(), t)
        return list(out.values())

    def month(self, path: str, value: str | None, *, required: bool) -> str | None:
        if value is None or not value.strip():
            if required:
                self.add(path, "skal udfyldes (ÅÅÅÅ-MM).", "is required (YYYY-MM).")
            return None
        v = value.strip()
        if not _MONTH.match(v):
            self.add(path, "skal være en måned som ÅÅÅÅ-MM.", "must be a month as YYYY-MM.")
            return None
        if v > datetime.now(UTC).strftime("%Y-%m"):
            self.add(path, "må ikke ligge i fremtiden.", "must not be in the future.")
        return v


def postal_place(p: Problems, value: str | None, path: str = "postalCode") -> Place | None:
    """Where a Danish postal code lies (every geographic code has a town and a point); a
    problem is noted when it is missing, not four digits, or not the code of an area: P.O.-box
    and company codes, Greenland, the Faroe Islands and unknown codes."""
    code = (value or "").strip()
    if not code:
        p.add(path, "skal udfyldes.", "is required.")
        return None
    if len(code) != 4 or not code.isascii() or not code.isdigit():
        p.add(path, "skal være et postnummer med 4 cifre.", "must be a 4-digit postal code.")
        return None
    place = place_for_postal_code(code)
    if place is None:
        p.add(
            path,
            "er ikke et dansk postnummer for en adresse (postboks- og firmapostnumre kan ikke "
            "bruges).",
            "is not the postal code of a Danish address (P.O.-box and company codes cannot be "
            "used).",
        )
    return place
