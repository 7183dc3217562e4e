from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
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
    # When the token it came from expires (its ``exp``): a live socket closes then. Not part of
    # who the caller is, so two tokens of one account make equal actors.
    expires_at: datetime | None = field(default=None, compare=False)
