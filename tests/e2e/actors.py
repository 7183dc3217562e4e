"""The people of the journeys, made through the app's own operations: a citizen who signs up
with a fresh local token, fills in a profile and a CV; an employer with a new company (a valid
CVR number), an offer and a posting. Inputs are what an app would send."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from .ops import Api, Result
from .server import RunningServer

# ESCO occupations from the shared taxonomy (the demo data's warehouse work around Aarhus).
WAREHOUSE_WORKER = "bea705fe-06ac-4147-b8e0-6e8ac1208d8f"  # lagerarbejder (9333)
ORDER_PICKER = "cd94def5-3442-4c2e-ae3d-0761a3008bcb"  # ordreplukker (9333)
FORKLIFT_OPERATOR = "eeac6251-1974-42f5-91ed-513c6c883755"  # gaffeltruckfører (8344)
CARGO_DRIVER = "45037d43-a8f5-4f46-b332-b2935bc305f4"  # lastbilchauffør (8332)

DEMO_CITIZEN_ID = "demo-borger-aarhus"
DEMO_EMPLOYER_ID = "demo-arbejdsgiver-logistik"
DEMO_COMPANY_CVR = "37741892"
DEMO_OFFER_IDS = ("demo-kaffe-lager", "demo-kaffe-truck", "demo-kaffe-chauffoer")

_CVR_WEIGHTS = (2, 7, 6, 5, 4, 3, 2, 1)


def new_cvr() -> str:
    """A random 8-digit number that passes the CVR mod-11 check."""
    while True:
        digits = [int(d) for d in f"{uuid.uuid4().int % 10**7:07d}"]
        digits[0] = digits[0] or 1
        rest = sum(w * d for w, d in zip(_CVR_WEIGHTS, digits, strict=False)) % 11
        last = (11 - rest) % 11
        if last < 10:
            return "".join(map(str, digits)) + str(last)


def at(delta: timedelta) -> str:
    """An ISO time with offset, ``delta`` from now (offer slots need a time zone)."""
    return (datetime.now(UTC) + delta).replace(microsecond=0).isoformat()


def days_ahead(n: int) -> str:
    return (date.today() + timedelta(days=n)).isoformat()


def short_id() -> str:
    return uuid.uuid4().hex[:10]


PROFILE = {
    "firstName": "Sofie",
    "lastName": "Andersen",
    "email": "sofie.andersen@example.dk",
    "phone": "+45 20 11 22 33",
    "postalCode": "8000",
    "locale": "da",
}

CV = {
    "name": "Lager-CV",
    "workHistory": [
        {
            "title": "Lagermedarbejder",
            "occupationId": WAREHOUSE_WORKER,
            "employer": "Brabrand Fragt A/S",
            "start": "2019-02",
            "end": "2024-05",
            "description": "Varemodtagelse, plukning med håndscanner og pakning af ordrer.",
        },
        {
            "title": "Truckfører",
            "occupationId": FORKLIFT_OPERATOR,
            "employer": "Aarhus Ø Terminal ApS",
            "start": "2024-06",
            "description": "Kørte gaffeltruck og læssede containere.",
        },
    ],
    "education": [
        {"title": "Folkeskolens afgangseksamen", "level": "GRUNDSKOLE", "completedYear": 2015}
    ],
    "courses": ["Truckcertifikat B", "Førstehjælp"],
    "languages": [
        {"language": "dansk", "level": "NATIVE"},
        {"language": "engelsk", "level": "GOOD"},
    ],
    "drivingLicences": ["B"],
    "skills": ["truckkørsel", "plukning med scanner", "vareflow"],
}


def company_input(name: str) -> dict:
    return {
        "name": name,
        "industry": "Transport og logistik",
        "street": "Havnegade 4",
        "postalCode": "8000",
        "size": "10-49",
        "website": "https://www.e2e-lager.example.dk",
    }


def offer_input(title: str, slots: list[dict], targets: list[str] | None = None) -> dict:
    return {
        "title": title,
        "pitch": "Kom til en kop kaffe og hør om vores lager og vagtplaner.",
        "targetOccupationIds": targets or [WAREHOUSE_WORKER, FORKLIFT_OPERATOR],
        "mode": "IN_PERSON",
        "address": "Havnegade 4, 8000 Aarhus C",
        "postalCode": "8000",
        "slots": slots,
    }


def slot(delta: timedelta, capacity: int = 1, minutes: int = 25) -> dict:
    return {"startsAt": at(delta), "durationMinutes": minutes, "capacity": capacity}


def posting_input(title: str, occupation: str | None = WAREHOUSE_WORKER) -> dict:
    data = {
        "title": title,
        "description": "Vi søger en stabil kollega til varemodtagelse, plukning og pakning.",
        "weeklyHours": 37,
        "contractType": "PERMANENT",
        "postalCode": "8000",
        "deadline": days_ahead(21),
        "requirements": [{"skill": "plukning med scanner"}, {"skill": "truckcertifikat"}],
    }
    if occupation:
        data["occupationId"] = occupation
    return data


@dataclass
class Citizen:
    id: str
    token: str
    cv_id: str | None = None


@dataclass
class Employer:
    id: str
    cvr: str
    token: str
    company: str
    offers: list[dict] = field(default_factory=list)


async def sign_up_citizen(
    api: Api, server: RunningServer, *, name: str = "Sofie", cv: bool = True
) -> Citizen:
    """A new account: a fresh token, the first profile save, a primary CV."""
    citizen_id = f"e2e-borger-{short_id()}"
    citizen = Citizen(citizen_id, server.token("citizen", citizen_id))
    profile = {**PROFILE, "firstName": name}
    (await api.run("UpdateMyProfile", citizen.token, {"input": profile})).ok()
    if cv:
        data = (await api.run("CreateCv", citizen.token, {"input": CV, "primary": True})).ok()
        citizen.cv_id = data["createCv"]["id"]
    return citizen


async def new_employer(api: Api, server: RunningServer, company: str | None = None) -> Employer:
    """A new employer account with a company profile of its own."""
    cvr = new_cvr()
    employer_id = f"e2e-arbejdsgiver-{short_id()}"
    token = server.token("employer", employer_id, cvr=cvr)
    name = company or f"E2E Lager {cvr} ApS"
    (await api.run("UpdateMyCompany", token, {"input": company_input(name)})).ok()
    return Employer(employer_id, cvr, token, name)


async def publish_offer(
    api: Api, employer: Employer, title: str, slots: list[dict] | None = None
) -> dict:
    slots = slots or [slot(timedelta(days=2)), slot(timedelta(days=3)), slot(timedelta(days=4))]
    data = (await api.run("CreateOffer", employer.token, {"input": offer_input(title, slots)})).ok()
    offer = data["createOffer"]
    employer.offers.append(offer)
    return offer


async def swipe_yes(api: Api, citizen: Citizen, offer_id: str) -> str:
    """The citizen says yes to an offer; returns the meeting request's id."""
    result: Result = await api.run("Swipe", citizen.token, {"offerId": offer_id, "decision": "YES"})
    request = result.ok()["swipe"]["request"]
    assert request and request["status"] == "PENDING", result
    return request["id"]


def codes(result: Result) -> list[str | None]:
    return result.codes


class Checks:
    """Expectations checked as the journey goes on; all that fail are reported together at the
    end, so one defect does not hide the next. Plumbing the journey relies on is asserted
    directly instead."""

    def __init__(self) -> None:
        self.failed: list[str] = []

    def check(self, ok: object, what: str) -> bool:
        if not ok:
            self.failed.append(what if len(what) <= 700 else what[:700] + " ...")
        return bool(ok)

    async def sweep(self, sweeping: Awaitable[object]) -> None:
        """A sweep (sweep.py) whose broken screens are reported with the other expectations."""
        try:
            await sweeping
        except AssertionError as e:
            self.failed.append(str(e))

    def done(self) -> None:
        assert not self.failed, f"{len(self.failed)} expectation(s) failed:\n- " + "\n- ".join(
            self.failed
        )
