"""The fixed demo accounts the README refers to.

Names, addresses and the company are fictional. The company's CVR number passes the mod-11
check but is made up for the demo.
"""

from __future__ import annotations

from datetime import UTC, datetime

from pymongo.asynchronous.database import AsyncDatabase

from core.cvr import is_valid_cvr
from store import collections as c

DEMO_CITIZEN_ID = "demo-borger-aarhus"
DEMO_EMPLOYER_ID = "demo-arbejdsgiver-logistik"
DEMO_COMPANY_CVR = "37741892"

assert is_valid_cvr(DEMO_COMPANY_CVR)

_NOW = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)

DEMO_COMPANY = {
    "_id": DEMO_COMPANY_CVR,
    "name": "Østjysk Lager & Logistik ApS",
    "industry": "Transport og logistik",
    "street": "Høje Taastrup Vej 12",
    "postalCode": "8200",
    "town": "Aarhus N",
    "location": {"type": "Point", "coordinates": [10.1867, 56.1915]},
    "size": "50-99",
    "website": "https://ostjysk-logistik.example.dk",
    "createdAt": _NOW,
}

DEMO_EMPLOYER = {
    "_id": DEMO_EMPLOYER_ID,
    "cvr": DEMO_COMPANY_CVR,
    "firstName": "Mette",
    "lastName": "Kjær",
    "email": "mette.kjaer@ostjysk-logistik.example.dk",
    "createdAt": _NOW,
}

DEMO_CITIZEN = {
    "_id": DEMO_CITIZEN_ID,
    "firstName": "Jonas",
    "lastName": "Nielsen",
    "email": "jonas.nielsen@example.dk",
    "phone": "+45 20 00 00 00",
    "postalCode": "8000",
    "town": "Aarhus C",
    "location": {"type": "Point", "coordinates": [10.2039, 56.1629]},
    "locale": "da",
    "createdAt": _NOW,
}


async def database_is_empty(db: AsyncDatabase) -> bool:
    return await db[c.CITIZENS].estimated_document_count() == 0


async def seed_demo_accounts(db: AsyncDatabase) -> None:
    """Insert or refresh the demo accounts (idempotent: replaces by fixed id)."""
    for collection, doc in (
        (c.COMPANIES, DEMO_COMPANY),
        (c.EMPLOYERS, DEMO_EMPLOYER),
        (c.CITIZENS, DEMO_CITIZEN),
    ):
        await db[collection].replace_one({"_id": doc["_id"]}, doc, upsert=True)
