"""The deterministic demo-data generator.

Every entity kind draws from its own random stream seeded by ``(seed, kind)``, and ids are
UUIDv5 of ``(seed, kind, index)``: the same arguments give the same documents, and asking for
more postings does not change the companies. Dates are relative to ``as_of`` (a date), so a run
on another day with the same ``as_of`` is identical too.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from core.cvr import complete_cvr
from matching.offers import deck_area

from .taxonomy import Taxonomy
from .vocab import (
    COMPANY_PREFIXES,
    COMPANY_SIZES,
    COMPANY_SUFFIXES,
    FIELDS,
    FIRST_NAMES,
    GENERIC_COURSES,
    INDUSTRIES,
    LANGUAGE_LEVELS,
    LANGUAGES,
    LAST_NAMES,
    OFFER_BENEFITS,
    OFFER_PITCHES,
    TOWNS,
    Industry,
    Town,
)

NAMESPACE = uuid.UUID("5f0c2a52-8d4e-4c1e-9a57-1b9b7a0f6e11")
STREETS = (
    "Industrivej",
    "Hovedgaden",
    "Stationsvej",
    "Havnegade",
    "Erhvervsvej",
    "Vestergade",
    "Østergade",
    "Nørregade",
    "Søndergade",
    "Fabriksvej",
    "Lagervej",
    "Transportvej",
    "Håndværkervej",
    "Banegårdspladsen",
    "Møllevej",
    "Kirkevej",
)
TOWN_WEIGHTS = [t.weight for t in TOWNS]

# Where unemployed citizens' careers lie (ISCO sub-major group -> weight): many have short
# education, so manual, service and care work dominate.
CAREER_WEIGHTS = {
    "93": 10,
    "52": 8,
    "53": 8,
    "83": 6,
    "91": 6,
    "51": 5,
    "43": 5,
    "72": 5,
    "71": 5,
    "94": 4,
    "41": 4,
    "42": 4,
    "81": 4,
    "33": 4,
    "82": 3,
    "74": 3,
    "75": 3,
    "96": 3,
    "32": 3,
    "92": 2,
    "22": 2,
    "23": 2,
    "24": 2,
    "25": 2,
    "31": 2,
    "34": 2,
    "35": 2,
    "14": 2,
    "44": 2,
    "26": 1,
    "21": 1,
    "12": 1,
    "13": 1,
    "54": 1,
    "61": 1,
    "62": 1,
    "73": 1,
    "95": 1,
}
EDUCATION_LEVEL = {
    "0": "MILITARY",
    "1": "LVU",
    "2": "LVU",
    "3": "KVU",
    "4": "EUD",
    "5": "EUD",
    "6": "EUD",
    "7": "EUD",
    "8": "EUD",
    "9": "GRUNDSKOLE",
}
CONTRACTS = ("PERMANENT", "PERMANENT", "PERMANENT", "PERMANENT", "TEMPORARY", "SUBSTITUTE")


def entity_id(seed: int, kind: str, index: int) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{seed}:{kind}:{index}"))


def point(lat: float, lon: float) -> dict:
    return {"type": "Point", "coordinates": [round(lon, 5), round(lat, 5)]}


def title_case(label: str) -> str:
    return label[:1].upper() + label[1:]


def _ascii_mail(text: str) -> str:
    return text.lower().replace("æ", "ae").replace("ø", "oe").replace("å", "aa").replace(" ", "")


def _at(day: date, hour: int = 0, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=UTC)


def _month(d: date) -> str:
    return f"{d.year:04d}-{d.month:02d}"


@dataclass
class SeedSpec:
    seed: int = 42
    companies: int = 300
    postings: int = 2000
    offers: int = 150
    citizens: int = 1000
    as_of: date = field(default_factory=lambda: datetime.now(UTC).date())


@dataclass
class CompanyRef:
    cvr: str
    name: str
    industry: Industry
    town: Town
    street: str
    lat: float
    lon: float


class Generator:
    def __init__(self, taxonomy: Taxonomy, spec: SeedSpec) -> None:
        self.spec = spec
        self.taxonomy = taxonomy
        self.occupations_by_group = taxonomy.by_sub_major()
        self.occupations_by_minor: dict[str, list[dict]] = {}
        for occ in taxonomy.occupations:
            self.occupations_by_minor.setdefault(occ["iscoCode"][:3], []).append(occ)
        self.companies: list[CompanyRef] = []

    def _rng(self, kind: str) -> random.Random:
        return random.Random(f"{self.spec.seed}:{kind}")

    def _occupation_in(self, rng: random.Random, group: str) -> dict:
        candidates = self.occupations_by_group.get(group) or self.occupations_by_group["93"]
        return rng.choice(candidates)

    def _title(self, rng: random.Random, occ: dict) -> str:
        if occ["altLabelsDa"] and rng.random() < 0.4:
            return title_case(rng.choice(occ["altLabelsDa"]))
        return title_case(occ["labelDa"])

    # --- companies ---------------------------------------------------------------------------
    def companies_docs(self) -> Iterator[dict]:
        rng = self._rng("company")
        seen_cvr: set[str] = set()
        seen_names: set[str] = set()
        for _i in range(self.spec.companies):
            cvr = None
            while cvr is None or cvr in seen_cvr:
                cvr = complete_cvr(str(rng.randint(1_000_000, 4_499_999)))
            seen_cvr.add(cvr)
            industry = rng.choice(INDUSTRIES)
            town = rng.choices(TOWNS, weights=TOWN_WEIGHTS)[0]
            name = ""
            while not name or name in seen_names:
                first = rng.choice(COMPANY_PREFIXES + tuple(LAST_NAMES[:20]))
                name = f"{first} {rng.choice(industry.name_words)} {rng.choice(COMPANY_SUFFIXES)}"
            seen_names.add(name)
            street = f"{rng.choice(STREETS)} {rng.randint(1, 120)}"
            lat = town.lat + rng.uniform(-0.02, 0.02)
            lon = town.lon + rng.uniform(-0.03, 0.03)
            ref = CompanyRef(cvr, name, industry, town, street, lat, lon)
            self.companies.append(ref)
            slug = _ascii_mail(name.rsplit(" ", 1)[0]).replace("&", "og").replace("/", "")
            yield {
                "_id": cvr,
                "name": name,
                "industry": industry.name,
                "street": street,
                "postalCode": town.postal_code,
                "town": town.name,
                "kommune": town.kommune,
                "region": town.region,
                "location": point(lat, lon),
                "size": rng.choice(COMPANY_SIZES),
                "website": f"https://www.{slug}.example.dk",
                "createdAt": _at(self.spec.as_of - timedelta(days=rng.randint(30, 900)), 9),
            }

    # --- postings ----------------------------------------------------------------------------
    def _posting_text(
        self,
        rng: random.Random,
        company: CompanyRef,
        title: str,
        group: str,
        town: Town,
        deadline: date,
    ) -> tuple[str, list[dict]]:
        f = FIELDS.get(group) or FIELDS["93"]
        skills = list(f.skills)
        rng.shuffle(skills)
        required = skills[: rng.randint(1, min(3, len(skills)))]
        nice = skills[len(required) : len(required) + rng.randint(0, 2)]
        requirements = [{"skill": s, "required": True} for s in required] + [
            {"skill": s, "required": False} for s in nice
        ]
        benefits = rng.sample(OFFER_BENEFITS, 3)
        lines = [
            f"{company.name} søger en {title.lower()} til vores afdeling i {town.name}.",
            "",
            "Dine opgaver:",
            *(f"- {t[:1].upper()}{t[1:]}" for t in f.tasks),
            "",
            "Vi forventer, at du har erfaring med:",
            *(f"- {s}" for s in required),
        ]
        if nice:
            lines += ["", "Det er en fordel, hvis du kender til:", *(f"- {s}" for s in nice)]
        lines += [
            "",
            "Vi tilbyder:",
            *(f"- {b}" for b in benefits),
            "",
            f"Søg senest {deadline.day}.{deadline.month}.{deadline.year}.",
        ]
        return "\n".join(lines), requirements

    def posting(
        self,
        rng: random.Random,
        pid: str,
        company: CompanyRef,
        occ: dict,
        title: str,
        town: Town,
        lat: float,
        lon: float,
        posted: date,
        deadline: date,
        weekly_hours: int,
        contract: str,
    ) -> dict:
        description, requirements = self._posting_text(
            rng, company, title, occ["iscoCode"][:2], town, deadline
        )
        return {
            "_id": pid,
            "title": title,
            "occupationId": occ["_id"],
            "iscoCode": occ["iscoCode"],
            "companyCvr": company.cvr,
            "companyName": company.name,
            "description": description,
            "requirements": requirements,
            "hours": "FULL_TIME" if weekly_hours >= 37 else "PART_TIME",
            "weeklyHours": weekly_hours,
            "contractType": contract,
            "postalCode": town.postal_code,
            "town": town.name,
            "region": town.region,
            "location": point(lat, lon),
            "postedAt": _at(posted, 8) + timedelta(minutes=rng.randint(0, 600)),
            "deadline": _at(deadline, 23, 59),
            "status": "OPEN",
            "source": "seed",
        }

    def postings_docs(self) -> Iterator[dict]:
        """Postings, including reposts (same company and title, posted again later) and
        multi-city copies (the same posting in other towns of the region)."""
        if not self.companies:
            return
        rng = self._rng("posting")
        as_of = self.spec.as_of
        index = 0
        while index < self.spec.postings:
            company = rng.choice(self.companies)
            group = rng.choice(company.industry.sub_major_groups)
            occ = self._occupation_in(rng, group)
            title = self._title(rng, occ)
            posted = as_of - timedelta(days=rng.randint(0, 40))
            deadline = posted + timedelta(days=rng.randint(14, 45))
            weekly_hours = 37 if rng.random() < 0.8 else rng.choice((15, 20, 25, 30, 32))
            contract = rng.choice(CONTRACTS)
            family = [(company.town, posted, deadline, company.lat, company.lon)]
            if rng.random() < 0.06:  # multi-city copies
                same_region = [t for t in TOWNS if t.region == company.town.region]
                for town in rng.sample(same_region, min(len(same_region), rng.randint(1, 3))):
                    if town != company.town:
                        family.append((town, posted, deadline, town.lat, town.lon))
            if rng.random() < 0.07:  # a repost: the same job posted again later
                reposted = posted + timedelta(days=rng.randint(10, 25))
                if reposted <= as_of:
                    family.append(
                        (
                            company.town,
                            reposted,
                            reposted + timedelta(days=30),
                            company.lat,
                            company.lon,
                        )
                    )
            for town, p_date, d_date, lat, lon in family:
                if index >= self.spec.postings:
                    break
                yield self.posting(
                    rng,
                    entity_id(self.spec.seed, "posting", index),
                    company,
                    occ,
                    title,
                    town,
                    lat,
                    lon,
                    p_date,
                    d_date,
                    weekly_hours,
                    contract,
                )
                index += 1

    # --- coffee-meeting offers ---------------------------------------------------------------
    def _offer(
        self, rng: random.Random, oid: str, company: CompanyRef, targets: list[dict]
    ) -> dict:
        as_of = self.spec.as_of
        role = targets[0]["labelDa"]
        pitch = rng.choice(OFFER_PITCHES).format(
            company=company.name, role=role, town=company.town.name
        )
        video = rng.random() < 0.3
        slots = []
        day = as_of + timedelta(days=rng.randint(2, 6))
        for s in range(rng.randint(2, 6)):
            while day.weekday() >= 5:
                day += timedelta(days=1)
            start = _at(day, rng.randint(8, 14), rng.choice((0, 30)))
            slots.append(
                {
                    "_id": f"{oid}-slot-{s + 1}",
                    "startsAt": start,
                    "endsAt": start + timedelta(minutes=25),
                    "capacity": rng.randint(1, 3),
                    "booked": 0,
                }
            )
            day += timedelta(days=rng.randint(1, 4))
        return {
            "_id": oid,
            "companyCvr": company.cvr,
            "companyName": company.name,
            "title": f"Kaffemøde: {title_case(role)}",
            "pitch": pitch,
            "targetOccupationIds": [t["_id"] for t in targets],
            "targetIscoCodes": sorted({t["iscoCode"] for t in targets}),
            "mode": "VIDEO" if video else "IN_PERSON",
            "address": None
            if video
            else f"{company.street}, {company.town.postal_code} {company.town.name}",
            "videoUrl": f"https://moede.example.dk/{oid[:8]}" if video else None,
            "postalCode": company.town.postal_code,
            "town": company.town.name,
            "location": point(company.lat, company.lon),
            "deckArea": deck_area(
                "VIDEO" if video else "IN_PERSON", point(company.lat, company.lon)
            ),
            "slots": slots,
            "expiresAt": slots[-1]["startsAt"] - timedelta(hours=12),
            "status": "OPEN",
            "createdAt": _at(as_of - timedelta(days=rng.randint(0, 10)), 10),
        }

    def offers_docs(self) -> Iterator[dict]:
        if not self.companies:
            return
        rng = self._rng("offer")
        for i in range(self.spec.offers):
            company = rng.choice(self.companies)
            group = rng.choice(company.industry.sub_major_groups)
            first = self._occupation_in(rng, group)
            siblings = self.occupations_by_minor.get(first["iscoCode"][:3], [first])
            targets = [first, *rng.sample(siblings, min(len(siblings), rng.randint(0, 2)))]
            targets = list({t["_id"]: t for t in targets}.values())
            yield self._offer(rng, entity_id(self.spec.seed, "offer", i), company, targets)

    # --- citizens and their CVs --------------------------------------------------------------
    def citizen_docs(self) -> Iterator[tuple[dict, dict]]:
        rng = self._rng("citizen")
        groups, weights = zip(*CAREER_WEIGHTS.items(), strict=True)
        for i in range(self.spec.citizens):
            cid = entity_id(self.spec.seed, "citizen", i)
            group = rng.choices(groups, weights=weights)[0]
            yield self.citizen(rng, cid, group, rng.choices(TOWNS, weights=TOWN_WEIGHTS)[0], i)

    def citizen(
        self,
        rng: random.Random,
        cid: str,
        group: str,
        town: Town,
        n: int,
        graduate: bool | None = None,
    ) -> tuple[dict, dict]:
        as_of = self.spec.as_of
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        home = self._occupation_in(rng, group)
        minor = self.occupations_by_minor.get(home["iscoCode"][:3], [home])
        graduate = rng.random() < 0.1 if graduate is None else graduate
        changer = not graduate and rng.random() < 0.15
        jobs: list[dict] = []
        newest: dict | None = None
        end = as_of - timedelta(days=rng.randint(20, 540))
        for j in range(0 if graduate else rng.randint(1, 4)):
            if j == 0 and changer:  # the newest job lies in another field
                occ = self._occupation_in(rng, rng.choice(groups_except(group)))
            elif rng.random() < 0.8:
                occ = rng.choice(minor)
            else:
                occ = self._occupation_in(rng, group)
            newest = newest or occ
            months = rng.randint(6, 60)
            start = end - timedelta(days=30 * months)
            f = FIELDS.get(occ["iscoCode"][:2]) or FIELDS["93"]
            jobs.append(
                {
                    "occupationId": occ["_id"],
                    "title": self._title(rng, occ),
                    "employer": f"{rng.choice(COMPANY_PREFIXES)} {rng.choice(rng.choice(INDUSTRIES).name_words)} {rng.choice(COMPANY_SUFFIXES)}",
                    "start": _month(start),
                    "end": _month(end),
                    "description": "Arbejdede med at "
                    + " og ".join(rng.sample(f.tasks, min(2, len(f.tasks))))
                    + ".",
                }
            )
            end = start - timedelta(days=rng.randint(0, 200))
        field_ = FIELDS.get(group) or FIELDS["93"]
        finished = as_of.year - (0 if graduate else rng.randint(len(jobs) + 1, 25))
        education = [
            {
                "title": field_.education,
                "level": EDUCATION_LEVEL[group[0]],
                "institution": f"Uddannelsesinstitution i {town.name}",
                "completedYear": finished,
            }
        ]
        courses = sorted(
            set(rng.sample(field_.courses, k=min(len(field_.courses), rng.randint(0, 2))))
            | set(rng.sample(GENERIC_COURSES, k=rng.randint(0, 1)))
        )
        languages = [{"language": "dansk", "level": "modersmål"}]
        if rng.random() < 0.12:
            languages = [
                {"language": rng.choice(LANGUAGES[3:]), "level": "modersmål"},
                {"language": "dansk", "level": rng.choice(LANGUAGE_LEVELS[:3])},
            ]
        if rng.random() < 0.7:
            languages.append({"language": "engelsk", "level": rng.choice(LANGUAGE_LEVELS[:3])})
        licences = ["B"] if rng.random() < 0.75 else []
        if group in ("83", "96") and rng.random() < 0.8:
            licences += ["C", "CE"] if rng.random() < 0.5 else ["C"]
        skills = sorted(
            set(rng.sample(field_.skills, k=min(len(field_.skills), rng.randint(2, 4))))
        )
        if changer and newest is not None:  # wants to stay in the field they changed to
            wanted = [newest["_id"], self._occupation_in(rng, newest["iscoCode"][:2])["_id"]]
        elif jobs:
            wanted = [jobs[0]["occupationId"], rng.choice(minor)["_id"]]
        else:
            wanted = [home["_id"]]
        wanted = list(dict.fromkeys(wanted))
        lat = town.lat + rng.uniform(-0.02, 0.02)
        lon = town.lon + rng.uniform(-0.03, 0.03)
        citizen = {
            "_id": cid,
            "firstName": first,
            "lastName": last,
            "email": f"{_ascii_mail(first)}.{_ascii_mail(last)}{n}@example.dk",
            "phone": f"+45 {rng.randint(20, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)}",
            "postalCode": town.postal_code,
            "town": town.name,
            "kommune": town.kommune,
            "region": town.region,
            "location": point(lat, lon),
            "locale": "en" if rng.random() < 0.05 else "da",
            "preferences": {
                "occupationIds": wanted,
                "radiusKm": rng.choice((10, 20, 30, 30, 50, 75)),
                "hours": rng.choice(("FULL_TIME", "FULL_TIME", "PART_TIME", "ANY")),
                "contractTypes": ["PERMANENT", "TEMPORARY"],
                "earliestStart": _at(as_of),
            },
            "consents": {
                "profiling": rng.random() < 0.95,
                "employerVisibility": "PSEUDONYMOUS",
                "push": {k: True for k in ("JOB_ALERTS", "MEETINGS", "REMINDERS", "NEWS")},
            },
            "newlyGraduated": graduate,
            "createdAt": _at(as_of - timedelta(days=rng.randint(1, 200)), 12),
        }
        cv = {
            "_id": f"{cid}-cv-1",
            "citizenId": cid,
            "name": "Mit CV",
            "primary": True,
            "workHistory": jobs,
            "education": education,
            "courses": courses,
            "languages": languages,
            "drivingLicences": licences,
            "skills": skills,
            "updatedAt": citizen["createdAt"],
        }
        return citizen, cv


def consent_events(citizen: dict) -> list[dict]:
    """The consent history a citizen starts with: each choice made at sign-up."""
    consents = citizen["consents"]
    settings = {k: v for k, v in consents.items() if k != "push"}
    settings |= {f"push.{k}": v for k, v in consents.get("push", {}).items()}
    return [
        {
            "_id": f"{citizen['_id']}:consent:{setting}",
            "citizenId": citizen["_id"],
            "setting": setting,
            "value": str(value).lower() if isinstance(value, bool) else value,
            "at": citizen["createdAt"],
            "source": "SIGN_UP",
        }
        for setting, value in settings.items()
    ]


def groups_except(group: str) -> list[str]:
    return [g for g in CAREER_WEIGHTS if g != group]
