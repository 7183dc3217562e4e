"""The records the matching modules share: postings and citizen profiles as ranking sees them,
ranked results with their explanations, filters and the job-ranking weights.

Plain data only, importing no other module of the package, so ranking, explanations, offers,
alerts and the engine all import it and never each other in a cycle.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np


@dataclass(frozen=True)
class Weights:
    """The job-ranking blend and its thresholds (the table in ``matching.ranking``); reverse
    ranking of an offer's candidates (``matching.offers``) uses the same weights."""

    semantic: float = 0.50
    occupation: float = 0.25
    distance: float = 0.10
    freshness: float = 0.10
    feedback: float = 0.05
    distance_scale_km: float = 25.0
    freshness_half_life_days: float = 10.0
    full_match_relation: float = 0.6
    full_match_semantic: float = 0.55
    related_semantic: float = 0.40
    broaden_below_per_week: int = 5
    # Fewer fitting jobs than this within the citizen's own radius: the nearest fitting ones
    # beyond it are added, up to this many times the radius (and at least this much further).
    fitting_within_radius: int = 5
    beyond_radius_factor: float = 2.0
    beyond_radius_min_extra_km: float = 25.0


WEIGHTS = Weights()


@dataclass(frozen=True, slots=True)
class PostingRecord:
    """What ranking and explanations need of a posting, kept in memory for speed."""

    id: str
    title: str
    occupation_id: str
    isco: str
    lat: float
    lon: float
    hours: str
    deadline: datetime
    posted_at: datetime
    company_cvr: str
    company_name: str
    town: str
    requirements: tuple[tuple[str, bool], ...]
    contract_type: str = "PERMANENT"  # api.validation.ContractType

    @classmethod
    def from_doc(cls, d: Mapping) -> PostingRecord:
        lon, lat = d["location"]["coordinates"]
        return cls(
            id=d["_id"],
            title=d["title"],
            occupation_id=d["occupationId"],
            isco=d["iscoCode"],
            lat=lat,
            lon=lon,
            hours=d.get("hours", "FULL_TIME"),
            deadline=d["deadline"],
            posted_at=d["postedAt"],
            company_cvr=d["companyCvr"],
            company_name=d.get("companyName", ""),
            town=d.get("town", ""),
            requirements=tuple(
                (r["skill"], bool(r["required"])) for r in d.get("requirements", [])
            ),
            contract_type=d.get("contractType") or "PERMANENT",
        )


@dataclass(frozen=True, slots=True)
class HistoryItem:
    occupation_id: str | None
    isco: str | None
    title: str  # the citizen's own words (Danish texts use them)
    employer: str | None
    label_en: str | None = None  # the occupation's English label, for English texts


@dataclass
class CitizenProfile:
    id: str
    lat: float
    lon: float
    radius_km: float
    hours: str = "ANY"  # FULL_TIME, PART_TIME or ANY
    vector: np.ndarray | None = None  # None: profiling is off (or no profile text yet)
    # False: the citizen turned profiling off. Nothing from the CV or from their behaviour
    # (history, skills, swipes) is used; only their own choices (wishes, radius, hours,
    # contract types) filter and order.
    profiling: bool = True
    contract_types: frozenset[str] = frozenset()  # wished contract types; empty: any
    wanted: dict[str, str] = field(default_factory=dict)  # occupation id -> ISCO unit code
    wanted_labels: dict[str, str] = field(default_factory=dict)  # occupation id -> label
    history: list[HistoryItem] = field(default_factory=list)
    # Skills, courses, licences, job titles and the ESCO labels of the occupations held
    # (lower case): what a posting's requirements are met by.
    terms: set[str] = field(default_factory=set)
    excluded: set[str] = field(default_factory=set)  # applied to or rejected postings
    feedback: dict[str, float] = field(default_factory=dict)  # ISCO unit -> [-1, 1]
    locale: str = "da"


@dataclass
class Explanation:
    summary: str
    reasons: list[str] = field(default_factory=list)
    matched_cv_items: list[str] = field(default_factory=list)
    occupation_label: str | None = None
    requirements_met: list[str] = field(default_factory=list)
    requirements_missing: list[str] = field(default_factory=list)
    broadened_reason: str | None = None


# How a suggestion relates to what the citizen has done or wants (``matching.ranking``).
FIT = "FIT"  # same occupation or ISCO unit group as a job held or wished: a full match
NEAR = "NEAR"  # same ISCO minor group: the citizen's field, broadened
OUTSIDE = "OUTSIDE"  # a weaker relation: outside the citizen's field ("Et nyt felt")
OPEN = "OPEN"  # profiling off and no wish to compare with: shown because it fits the filters


@dataclass
class RankedJob:
    posting: PostingRecord
    score: float
    broadened: bool
    broadened_reason: str | None
    explanation: Explanation
    components: dict[str, float]
    fit: str = FIT
    beyond_radius: bool = False  # a fitting job beyond the radius, added because few lie inside

    @property
    def outside_field(self) -> bool:
        return self.fit == OUTSIDE


class RankedJobs(list):
    """Ranked jobs (a list) and what the ranking found about the radius: how many fitting jobs
    lie within it, and how far it reached for more when they were fewer than five."""

    radius_km: float = 0.0
    fitting_within_radius: int = 0
    reached_km: float | None = None  # set when fitting jobs beyond the radius were added


@dataclass
class Filters:
    radius_km: float | None = None  # overrides the profile's radius
    hours: str | None = None
    search: str | None = None  # words that must all appear in the title or company
