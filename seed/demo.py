"""The fixed demo accounts the README refers to, and what they need to be worth a demo.

- Demo citizen ``demo-borger-aarhus``: warehouse and forklift work in Aarhus, looking for more.
- Demo employer ``demo-arbejdsgiver-logistik`` at Østjysk Lager & Logistik ApS (CVR 37741892):
  open job postings, open coffee-meeting offers, and meeting requests from eight candidates.

Names, addresses and the company are fictional. The CVR number passes the mod-11 check but is
made up. Occupation ids are ESCO concepts from the shared taxonomy.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

from pymongo.asynchronous.database import AsyncDatabase

from core.cvr import is_valid_cvr
from matching.offers import deck_area
from store import collections as c

from .generator import consent_events

DEMO_CITIZEN_ID = "demo-borger-aarhus"
DEMO_EMPLOYER_ID = "demo-arbejdsgiver-logistik"
DEMO_COMPANY_CVR = "37741892"
DEMO_OFFER_IDS = ("demo-kaffe-lager", "demo-kaffe-truck", "demo-kaffe-chauffoer")
DEMO_CANDIDATE_IDS = tuple(f"demo-kandidat-{i}" for i in range(1, 9))

assert is_valid_cvr(DEMO_COMPANY_CVR)

# ESCO occupations (see shared/taxonomy): warehouse work around Aarhus.
WAREHOUSE_WORKER = "bea705fe-06ac-4147-b8e0-6e8ac1208d8f"  # lagerarbejder (9333)
ORDER_PICKER = "cd94def5-3442-4c2e-ae3d-0761a3008bcb"  # lagerekspedient / ordreplukker (9333)
FORKLIFT_OPERATOR = "eeac6251-1974-42f5-91ed-513c6c883755"  # gaffeltruckfører (8344)
LOADER = "808becc8-5a4e-4e71-a043-c2ea32b56ae3"  # læsse- og lossearbejder (9333)
WAREHOUSE_MANAGER = "2f5de1ab-eddf-4715-8193-e994912c22ea"  # lagerchef
CARGO_DRIVER = "45037d43-a8f5-4f46-b332-b2935bc305f4"  # lastbilchauffør (8332)
DEMO_POSTING_OCCUPATIONS = (WAREHOUSE_WORKER, FORKLIFT_OPERATOR, ORDER_PICKER, CARGO_DRIVER)
ISCO_OF = {
    WAREHOUSE_WORKER: "9333",
    ORDER_PICKER: "9333",
    LOADER: "9333",
    FORKLIFT_OPERATOR: "8344",
    CARGO_DRIVER: "8332",
}

_CREATED = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
_LOCATION_AARHUS_N = {"type": "Point", "coordinates": [10.1867, 56.1915]}

DEMO_COMPANY = {
    "_id": DEMO_COMPANY_CVR,
    "name": "Østjysk Lager & Logistik ApS",
    "industry": "Transport og logistik",
    "street": "Lagervej 12",
    "postalCode": "8200",
    "town": "Aarhus N",
    "kommune": "Aarhus",
    "region": "Region Midtjylland",
    "location": _LOCATION_AARHUS_N,
    "size": "50-99",
    "website": "https://www.ostjysk-logistik.example.dk",
    "createdAt": _CREATED,
}

DEMO_EMPLOYER = {
    "_id": DEMO_EMPLOYER_ID,
    "cvr": DEMO_COMPANY_CVR,
    "firstName": "Mette",
    "lastName": "Kjær",
    "email": "mette.kjaer@ostjysk-logistik.example.dk",
    "createdAt": _CREATED,
}


def demo_citizen(as_of: date) -> tuple[dict, dict]:
    citizen = {
        "_id": DEMO_CITIZEN_ID,
        "firstName": "Jonas",
        "lastName": "Nielsen",
        "email": "jonas.nielsen@example.dk",
        "phone": "+45 20 00 00 00",
        "postalCode": "8000",
        "town": "Aarhus C",
        "kommune": "Aarhus",
        "region": "Region Midtjylland",
        "location": {"type": "Point", "coordinates": [10.2039, 56.1629]},
        "locale": "da",
        "preferences": {
            "occupationIds": [WAREHOUSE_WORKER, FORKLIFT_OPERATOR, ORDER_PICKER],
            "radiusKm": 30,
            "hours": "FULL_TIME",
            "contractTypes": ["PERMANENT", "TEMPORARY"],
            "earliestStart": datetime.combine(as_of, datetime.min.time(), tzinfo=UTC),
        },
        "consents": {
            "profiling": True,
            "employerVisibility": "PSEUDONYMOUS",
            "push": {k: True for k in ("JOB_ALERTS", "MEETINGS", "REMINDERS", "NEWS")},
        },
        "newlyGraduated": False,
        "createdAt": _CREATED,
    }
    cv = {
        "_id": f"{DEMO_CITIZEN_ID}-cv-1",
        "citizenId": DEMO_CITIZEN_ID,
        "name": "Mit CV",
        "primary": True,
        "workHistory": [
            {
                "occupationId": FORKLIFT_OPERATOR,
                "title": "Truckfører",
                "employer": "Aarhus Ø Terminal ApS",
                "start": "2022-03",
                "end": "2026-06",
                "description": "Kørte gaffeltruck og reachtruck, læssede containere og "
                "registrerede paller i lagersystemet.",
            },
            {
                "occupationId": WAREHOUSE_WORKER,
                "title": "Lagermedarbejder",
                "employer": "Brabrand Fragt A/S",
                "start": "2018-08",
                "end": "2022-02",
                "description": "Varemodtagelse, plukning med håndscanner og pakning af ordrer "
                "til butikker i hele Jylland.",
            },
            {
                "occupationId": ORDER_PICKER,
                "title": "Ordreplukker",
                "employer": "Viby Distributionscenter A/S",
                "start": "2016-05",
                "end": "2018-07",
                "description": "Plukkede ordrer i to-holdsskift og hjalp med optælling.",
            },
        ],
        "education": [
            {
                "title": "Folkeskolens afgangseksamen",
                "level": "GRUNDSKOLE",
                "institution": "Uddannelsesinstitution i Aarhus C",
                "completedYear": 2014,
            }
        ],
        "courses": ["Førstehjælp", "Lagerlogistik (AMU)", "Truckcertifikat B"],
        "languages": [
            {"language": "dansk", "level": "modersmål"},
            {"language": "engelsk", "level": "godt"},
        ],
        "drivingLicences": ["B"],
        "skills": ["læsning og losning", "plukning med scanner", "truckkørsel", "vareflow"],
        "updatedAt": _CREATED,
    }
    return citizen, cv


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


def _next_weekday(day: date) -> date:
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def demo_offers(as_of: date) -> list[dict]:
    specs = [
        (
            DEMO_OFFER_IDS[0],
            "Kaffemøde: Lagermedarbejder",
            [WAREHOUSE_WORKER, ORDER_PICKER, LOADER],
            "Kom forbi vores lager i Aarhus N til en kop kaffe. Vi søger lagermedarbejdere til "
            "dag- og aftenhold og viser dig gerne rundt.",
            "IN_PERSON",
        ),
        (
            DEMO_OFFER_IDS[1],
            "Kaffemøde: Truckfører",
            [FORKLIFT_OPERATOR],
            "Har du truckcertifikat? Mød vores driftsleder til 20 minutters snak om jobbet som "
            "truckfører.",
            "IN_PERSON",
        ),
        (
            DEMO_OFFER_IDS[2],
            "Videokaffe: Chauffør",
            [CARGO_DRIVER],
            "Vi udvider med to ruter i Østjylland. Tag en videokaffe med os og hør om arbejdstider "
            "og bil.",
            "VIDEO",
        ),
    ]
    offers = []
    for k, (oid, title, targets, pitch, mode) in enumerate(specs):
        day = _next_weekday(as_of + timedelta(days=3 + k))
        slots = []
        for s in range(3):
            start = _at(day, 9 + 2 * s)
            slots.append(
                {
                    "_id": f"{oid}-slot-{s + 1}",
                    "startsAt": start,
                    "endsAt": start + timedelta(minutes=25),
                    "capacity": 2 if s == 0 else 1,
                    "booked": 0,
                }
            )
            day = _next_weekday(day + timedelta(days=2))
        offers.append(
            {
                "_id": oid,
                "companyCvr": DEMO_COMPANY_CVR,
                "companyName": DEMO_COMPANY["name"],
                "title": title,
                "pitch": pitch,
                "targetOccupationIds": targets,
                "targetIscoCodes": sorted({ISCO_OF[t] for t in targets}),
                "mode": mode,
                "address": None if mode == "VIDEO" else "Lagervej 12, 8200 Aarhus N",
                "videoUrl": f"https://moede.example.dk/{oid}" if mode == "VIDEO" else None,
                "postalCode": "8200",
                "town": "Aarhus N",
                "location": _LOCATION_AARHUS_N,
                "deckArea": deck_area(mode, _LOCATION_AARHUS_N),
                "slots": slots,
                "expiresAt": slots[-1]["startsAt"] - timedelta(hours=12),
                "status": "OPEN",
                "createdAt": _at(as_of - timedelta(days=2), 10),
            }
        )
    return offers


def demo_meeting_requests(as_of: date, candidate_ids: list[str]) -> list[dict]:
    rng = random.Random("demo-requests")
    requests = []
    for k, cid in enumerate(candidate_ids):
        created = _at(as_of - timedelta(days=rng.randint(0, 3)), rng.randint(8, 20))
        seen = k % 4 == 3
        requests.append(
            {
                "_id": f"demo-anmodning-{k + 1}",
                "offerId": DEMO_OFFER_IDS[k % 2],
                "companyCvr": DEMO_COMPANY_CVR,
                "citizenId": cid,
                "status": "SEEN" if seen else "PENDING",
                "createdAt": created,
                "seenAt": created + timedelta(hours=5) if seen else None,
            }
        )
    return requests


def demo_joblog(as_of: date) -> list[dict]:
    """A few applications the demo citizen logged by hand (Dine søgte job)."""
    entries = [
        (12, "Aarhus Havn Logistik A/S", "Lagermedarbejder", "EMAIL", "REJECTED", "UNSOLICITED"),
        (6, "Viby Fragt ApS", "Truckfører", "WRITTEN", "INTERVIEW", "POSTING"),
        (2, "Nordisk Pakkecenter A/S", "Pakkerimedarbejder", "PHONE", "SENT", "UNSOLICITED"),
    ]
    docs = []
    for k, (days, company, title, form, status, kind) in enumerate(entries):
        day = _at(as_of - timedelta(days=days), 0)
        docs.append(
            {
                "_id": f"demo-joblog-{k + 1}",
                "citizenId": DEMO_CITIZEN_ID,
                "appliedOn": day,
                "kind": kind,
                "form": form,
                "status": status,
                "postingId": None,
                "companyCvr": None,
                "companyName": company,
                "jobTitle": title,
                "note": None,
                "source": "MANUAL",
                "createdAt": day + timedelta(hours=15),
                "updatedAt": day + timedelta(hours=15),
            }
        )
    return docs


async def database_is_empty(db: AsyncDatabase) -> bool:
    return await db[c.CITIZENS].estimated_document_count() == 0


async def seed_demo_accounts(db: AsyncDatabase, as_of: date | None = None) -> None:
    """Insert or refresh the demo citizen (with CV), the demo company and its employer
    (idempotent: replaces by fixed id). The full demo set is written by seed.run."""
    as_of = as_of or datetime.now(UTC).date()
    citizen, cv = demo_citizen(as_of)
    for collection, doc in (
        (c.COMPANIES, DEMO_COMPANY),
        (c.EMPLOYERS, DEMO_EMPLOYER),
        (c.CITIZENS, citizen),
        (c.CVS, cv),
        *((c.CONSENT_EVENTS, e) for e in consent_events(citizen)),
    ):
        await db[collection].replace_one({"_id": doc["_id"]}, doc, upsert=True)
