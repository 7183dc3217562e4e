from __future__ import annotations

from pymongo.asynchronous.database import AsyncDatabase
from strawberry.dataloader import DataLoader

from . import repository


def posting_by_id(db: AsyncDatabase) -> DataLoader:
    return DataLoader(lambda ids: repository.postings_by_ids(db, ids))
