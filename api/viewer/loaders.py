from __future__ import annotations

from pymongo.asynchronous.database import AsyncDatabase
from strawberry.dataloader import DataLoader

from api.citizens import repository as citizens
from api.companies import repository as companies


def company_by_cvr(db: AsyncDatabase) -> DataLoader:
    return DataLoader(lambda cvrs: companies.companies_by_cvr(db, cvrs))


def citizen_by_id(db: AsyncDatabase) -> DataLoader:
    return DataLoader(lambda ids: citizens.citizens_by_ids(db, ids))


def employer_by_id(db: AsyncDatabase) -> DataLoader:
    return DataLoader(lambda ids: companies.employers_by_id(db, ids))
