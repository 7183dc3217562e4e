from __future__ import annotations

from enum import Enum

import strawberry

from api.citizens.types import DrivingLicence, LanguageLevel, LanguageSkill


@strawberry.enum(description="How far the candidate lives from the meeting place.")
class DistanceBand(Enum):
    UNDER_5_KM = "UNDER_5_KM"
    KM_5_15 = "KM_5_15"
    KM_15_30 = "KM_15_30"
    KM_30_60 = "KM_30_60"
    OVER_60_KM = "OVER_60_KM"


@strawberry.type
class ExperienceItem:
    title: str
    months: int


@strawberry.type(
    description=(
        "A candidate behind a meeting request, as the citizen allows: pseudonymous (initial) "
        "until the request is accepted unless they chose to show their name; e-mail and phone "
        "only after acceptance. Former employers are never shown."
    )
)
class Candidate:
    request_id: strawberry.ID
    initial: str
    name: str | None
    email: str | None
    phone: str | None
    experience: list[ExperienceItem]
    education: list[str]
    skills: list[str]
    courses: list[str]
    driving_licences: list[DrivingLicence]
    languages: list[LanguageSkill]
    distance_band: DistanceBand | None

    @classmethod
    def from_view(cls, v: dict) -> Candidate:
        return cls(
            request_id=strawberry.ID(v["requestId"]),
            initial=v["initial"],
            name=v["name"],
            email=v["email"],
            phone=v["phone"],
            experience=[ExperienceItem(title=t, months=m) for t, m in v["experience"]],
            education=v["education"],
            skills=v["skills"],
            courses=v["courses"],
            driving_licences=[DrivingLicence(x) for x in v["drivingLicences"]],
            languages=[
                LanguageSkill(language=x["language"], level=LanguageLevel(x["level"]))
                for x in v["languages"]
            ],
            distance_band=DistanceBand(v["distanceBand"]) if v["distanceBand"] else None,
        )
