"""Checks for what a citizen writes about themselves (profile, CVs, wishes); the shared
``Problems`` collector and postal codes are in ``api.validation``."""

from __future__ import annotations

import re
from datetime import date
from enum import StrEnum

# TEMPORARY (removed in this change): old import path of the shared checks.
from api.validation import (
    Problems,
    postal_place,  # noqa: F401
)

MAX_CVS = 10


# The GraphQL enums of the CV are these classes (types.py), so each list is spelled once.
class EducationLevel(StrEnum):
    GRUNDSKOLE = "GRUNDSKOLE"
    GYMNASIAL = "GYMNASIAL"
    EUD = "EUD"
    KVU = "KVU"
    MVU = "MVU"
    LVU = "LVU"
    PHD = "PHD"
    MILITARY = "MILITARY"


class LanguageLevel(StrEnum):
    BASIC = "grundlæggende"
    GOOD = "godt"
    FLUENT = "flydende"
    NATIVE = "modersmål"


class DrivingLicence(StrEnum):
    AM = "AM"
    A1 = "A1"
    A2 = "A2"
    A = "A"
    B = "B"
    BE = "BE"
    C1 = "C1"
    C1E = "C1E"
    C = "C"
    CE = "CE"
    D1 = "D1"
    D1E = "D1E"
    D = "D"
    DE = "DE"
    T = "T"


EDUCATION_LEVELS: tuple[EducationLevel, ...] = tuple(EducationLevel)
LANGUAGE_LEVELS: tuple[LanguageLevel, ...] = tuple(LanguageLevel)
DRIVING_LICENCES: tuple[DrivingLicence, ...] = tuple(DrivingLicence)
EMPLOYER_VISIBILITY = ("PSEUDONYMOUS", "NAMED")
PUSH_CATEGORIES = ("JOB_ALERTS", "MEETINGS", "REMINDERS", "NEWS")
LOCALES = ("da", "en")

_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
_PHONE = re.compile(r"^\+?[0-9 ]{8,20}$")


def email(p: Problems, path: str, value: str | None) -> str | None:
    v = p.text(path, value, max_len=254, required=False)
    if v and not _EMAIL.match(v):
        p.add(path, "er ikke en gyldig e-mailadresse.", "is not a valid e-mail address.")
    return v.lower() if v else None


def phone(p: Problems, path: str, value: str | None) -> str | None:
    v = p.text(path, value, max_len=20, required=False)
    if v and not _PHONE.match(v):
        p.add(path, "er ikke et gyldigt telefonnummer.", "is not a valid phone number.")
    return v


def year(p: Problems, path: str, value: int | None) -> int | None:
    if value is None:
        return None
    if not 1940 <= value <= date.today().year + 6:
        p.add(path, "er ikke et muligt årstal.", "is not a plausible year.")
    return value
