"""What the notifications need to know of people and postings, asked of the features that own
them.

Accounts (citizens, CVs, employers) and postings belong to their features in ``api/``; this
package sits below the API and never names their collections. The composition roots (the API
app, the worker command, the CLI) hand in an implementation of ``Directory``
(``api.directory.AccountsDirectory``), and every function here that needs such a fact takes it
as an argument.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from pymongo.asynchronous.database import AsyncDatabase


@dataclass(frozen=True)
class Recipient:
    """Someone a notification goes to, in their own language."""

    id: str
    role: str  # "citizen" | "employer"
    locale: str = "da"


class Directory(Protocol):
    async def citizen_locales(
        self, db: AsyncDatabase, citizen_ids: Sequence[str], session: Any = None
    ) -> dict[str, str]:
        """Each existing citizen's language; erased accounts are absent."""
        ...

    async def company_recipients(
        self, db: AsyncDatabase, cvr: str, session: Any = None
    ) -> list[Recipient]:
        """The employer users acting for a company."""
        ...

    async def push_consents(
        self, db: AsyncDatabase, user_ids: Sequence[str]
    ) -> dict[str, Mapping[str, bool]]:
        """Push categories each citizen consented to or refused (absent for other users)."""
        ...

    async def citizens_with_cv(
        self, db: AsyncDatabase, skip: set[str]
    ) -> list[tuple[dict, dict | None]]:
        """Every citizen not in ``skip`` with their primary CV (or None)."""
        ...

    async def citizen_with_cv(
        self, db: AsyncDatabase, citizen_id: str
    ) -> tuple[dict | None, dict | None]:
        """One citizen and their primary CV; (None, None) when the account is gone."""
        ...

    async def postings_published(
        self, db: AsyncDatabase, after: datetime, until: datetime
    ) -> list[dict]:
        """Open postings published in (after, until] whose deadline has not passed."""
        ...
