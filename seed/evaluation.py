"""The evaluation export: which postings are relevant to which citizens, by the generator's
ground truth, for the matching quality benchmark (nDCG@10, recall@20).

Grades: 2 = the posting's occupation is one the citizen wants (highly relevant); 1 = the
posting is in the ISCO unit group (4 digits) of a wanted occupation (relevant). Only postings a
correct ranking may show count: within the citizen's radius and with the deadline not passed.
Citizens who opted out of profiling are left out (they get no profile-based ranking).
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from pathlib import Path


@dataclass(frozen=True, slots=True)
class PostingFacts:
    id: str
    occupation_id: str
    isco_unit: str
    lat: float
    lon: float
    deadline: date


@dataclass(frozen=True, slots=True)
class CitizenFacts:
    id: str
    wanted: tuple[str, ...]
    wanted_units: tuple[str, ...]
    lat: float
    lon: float
    radius_km: float
    profiling: bool


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(a))


def posting_facts(doc: dict) -> PostingFacts:
    lon, lat = doc["location"]["coordinates"]
    return PostingFacts(
        doc["_id"], doc["occupationId"], doc["iscoCode"], lat, lon, doc["deadline"].date()
    )


def citizen_facts(doc: dict, isco_of: dict[str, str]) -> CitizenFacts:
    lon, lat = doc["location"]["coordinates"]
    wanted = tuple(doc["preferences"]["occupationIds"])
    return CitizenFacts(
        doc["_id"],
        wanted,
        tuple(sorted({isco_of[o] for o in wanted if o in isco_of})),
        lat,
        lon,
        float(doc["preferences"]["radiusKm"]),
        bool(doc["consents"]["profiling"]),
    )


def relevance_labels(
    citizens: list[CitizenFacts], postings: list[PostingFacts], as_of: date, limit: int
) -> list[dict]:
    by_unit: dict[str, list[PostingFacts]] = defaultdict(list)
    for p in postings:
        if p.deadline >= as_of:
            by_unit[p.isco_unit].append(p)
    labelled = []
    for c in citizens:
        if not c.profiling:
            continue
        grades: dict[str, int] = {}
        for unit in c.wanted_units:
            for p in by_unit.get(unit, ()):
                if haversine_km(c.lat, c.lon, p.lat, p.lon) <= c.radius_km:
                    grade = 2 if p.occupation_id in c.wanted else 1
                    grades[p.id] = max(grade, grades.get(p.id, 0))
        if grades:
            labelled.append({"citizenId": c.id, "relevant": dict(sorted(grades.items()))})
            if len(labelled) >= limit:
                break
    return labelled


def write_eval(path: Path, seed: int, as_of: date, labels: list[dict]) -> None:
    payload = {
        "seed": seed,
        "asOf": as_of.isoformat(),
        "grades": {"2": "same occupation as wanted", "1": "same ISCO unit group as wanted"},
        "filters": "posting within the citizen's radius, deadline not passed",
        "citizens": labels,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
