from __future__ import annotations

from pymongo.asynchronous.database import AsyncDatabase
from strawberry.dataloader import DataLoader

from . import repository


def company_by_cvr(db: AsyncDatabase) -> DataLoader:
    return DataLoader(lambda cvrs: repository.companies_by_cvr(db, cvrs))


def citizen_by_id(db: AsyncDatabase) -> DataLoader:
    return DataLoader(lambda ids: repository.citizens_by_id(db, ids))


def employer_by_id(db: AsyncDatabase) -> DataLoader:
    return DataLoader(lambda ids: repository.employers_by_id(db, ids))
