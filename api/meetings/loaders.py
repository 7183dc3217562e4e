from __future__ import annotations

from pymongo.asynchronous.database import AsyncDatabase
from strawberry.dataloader import DataLoader

from store import collections as c
from store.queries import find_by_ids


def offer_by_id(db: AsyncDatabase) -> DataLoader:
    return DataLoader(lambda ids: find_by_ids(db, c.OFFERS, ids))


def meeting_request_by_id(db: AsyncDatabase) -> DataLoader:
    return DataLoader(lambda ids: find_by_ids(db, c.MEETING_REQUESTS, ids))
