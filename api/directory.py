"""The notifications' view of accounts and postings (``notifications.directory.Directory``),
answered by the repositories that own them. Handed to the notifications by the composition
roots: the app, the worker command and the CLI."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from api.citizens import repository as citizens
from api.companies import repository as companies
from api.jobs import repository as jobs
from notifications.directory import Recipient


class AccountsDirectory:
    async def citizen_locales(
        self, db: AsyncDatabase, citizen_ids: Sequence[str], session: Any = None
    ) -> dict[str, str]:
        return await citizens.locales_of(db, citizen_ids, session=session)

    async def company_recipients(
        self, db: AsyncDatabase, cvr: str, session: Any = None
    ) -> list[Recipient]:
        found = await companies.employer_locales(db, cvr, session=session)
        return [Recipient(employer_id, "employer", locale) for employer_id, locale in found]

    async def push_consents(
        self, db: AsyncDatabase, user_ids: Sequence[str]
    ) -> dict[str, Mapping[str, bool]]:
        return await citizens.push_consents_of(db, user_ids)

    async def citizens_with_cv(
        self, db: AsyncDatabase, skip: set[str]
    ) -> list[tuple[dict, dict | None]]:
        found = await citizens.all_citizens_except(db, skip)
        if not found:
            return []
        cvs = {d["citizenId"]: d for d in await citizens.primary_cvs(db, [x["_id"] for x in found])}
        return [(x, cvs.get(x["_id"])) for x in found]

    async def citizen_with_cv(
        self, db: AsyncDatabase, citizen_id: str
    ) -> tuple[dict | None, dict | None]:
        citizen = await citizens.get_citizen(db, citizen_id)
        if citizen is None:
            return None, None
        return citizen, await citizens.primary_cv(db, citizen_id)

    async def postings_published(
        self, db: AsyncDatabase, after: datetime, until: datetime
    ) -> list[dict]:
        return await jobs.postings_published(db, after, until)


DIRECTORY = AccountsDirectory()
