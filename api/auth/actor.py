from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    CITIZEN = "citizen"
    EMPLOYER = "employer"
    CASEWORKER = "caseworker"  # reserved: job-centre staff, only with the citizen's consent


@dataclass(frozen=True, slots=True)
class Actor:
    """The authenticated caller. ``id`` is the account id (the Firebase uid in production)."""

    id: str
    role: Role
    cvr: str | None = None  # employers act for exactly one company
