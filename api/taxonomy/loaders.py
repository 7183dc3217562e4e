from __future__ import annotations

from pymongo.asynchronous.database import AsyncDatabase
from strawberry.dataloader import DataLoader

from . import repository


def occupation_by_id(db: AsyncDatabase) -> DataLoader:
    return DataLoader(lambda ids: repository.occupations_by_ids(db, ids))


def isco_group_by_code(db: AsyncDatabase) -> DataLoader:
    return DataLoader(lambda codes: repository.groups_by_codes(db, codes))


def isco_children_by_parent(db: AsyncDatabase) -> DataLoader:
    return DataLoader(lambda codes: repository.children_by_parents(db, codes))
