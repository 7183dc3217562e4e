from __future__ import annotations

from pymongo.asynchronous.database import AsyncDatabase
from strawberry.dataloader import DataLoader

from api.offers import repository as offers

from . import contacts, repository


def offer_by_id(db: AsyncDatabase) -> DataLoader:
    return DataLoader(lambda ids: offers.offers_by_ids(db, ids))


def meeting_request_by_id(db: AsyncDatabase) -> DataLoader:
    return DataLoader(lambda ids: repository.requests_by_ids(db, ids))


def company_contact_by_cvr(db: AsyncDatabase) -> DataLoader:
    """Who a citizen meets at each company (``contacts.company_contact``)."""
    return DataLoader(lambda cvrs: contacts.company_contacts(db, cvrs))
