from __future__ import annotations

from datetime import date, datetime
from enum import Enum

import strawberry
from strawberry.types import Info

from api import validation as shared
from api.citizens import validation
from api.jobs.types import Hours
from api.pagination import PageInfo
from api.taxonomy.types import Occupation
from core.cvr import is_valid_cvr

# The enums are the validation's own, so each list of values is spelled once.
ContractType = strawberry.enum(shared.ContractType, description="Kind of employment.")
EducationLevel = strawberry.enum(
    validation.EducationLevel, description="Level of an education, Danish system."
)
LanguageLevel = strawberry.enum(
    validation.LanguageLevel, description="How well the citizen speaks a language."
)
DrivingLicence = strawberry.enum(
    validation.DrivingLicence, description="Danish driving licence categories."
)


@strawberry.enum(
    description=(
        "What companies see of the citizen in a meeting request before they accept it. "
        "PSEUDONYMOUS (default): initial, experience, skills and a distance band; name and "
        "contact details only after acceptance. NAMED: the full name from the start; contact "
        "details still only after acceptance."
    )
)
class EmployerVisibility(Enum):
    PSEUDONYMOUS = "PSEUDONYMOUS"
    NAMED = "NAMED"


@strawberry.enum(description="Kinds of push message the citizen can turn on or off.")
class PushCategory(Enum):
    JOB_ALERTS = "JOB_ALERTS"
    MEETINGS = "MEETINGS"
    REMINDERS = "REMINDERS"
    NEWS = "NEWS"


# --- profile --------------------------------------------------------------------------------
@strawberry.type(description="The citizen's job wishes; they steer suggestions and alerts.")
class JobPreferences:
    occupation_ids: strawberry.Private[list[str]]
    radius_km: int
    hours: Hours
    contract_types: list[ContractType]
    earliest_start: date | None

    @strawberry.field(description="Wanted occupations.")
    async def occupations(self, info: Info) -> list[Occupation]:
        docs = await info.context.loaders.occupation_by_id.load_many(self.occupation_ids)
        return [Occupation.from_doc(d) for d in docs if d]

    @classmethod
    def from_doc(cls, prefs: dict) -> JobPreferences:
        start = prefs.get("earliestStart")
        return cls(
            occupation_ids=list(prefs.get("occupationIds", [])),
            radius_km=int(prefs.get("radiusKm", 30)),
            hours=Hours(prefs.get("hours", "ANY")),
            contract_types=[ContractType(c) for c in prefs.get("contractTypes", [])],
            earliest_start=start.date() if isinstance(start, datetime) else None,
        )


@strawberry.type
class PushCategorySetting:
    category: PushCategory
    enabled: bool


@strawberry.type(description="The citizen's privacy choices.")
class PrivacySettings:
    profiling: bool = strawberry.field(
        description="CV-based ranking. Off: no profile embedding is kept and suggestions are "
        "plain search and filters."
    )
    employer_visibility: EmployerVisibility
    push_categories: list[PushCategorySetting]

    @classmethod
    def from_doc(cls, consents: dict) -> PrivacySettings:
        push = consents.get("push", {})
        return cls(
            profiling=bool(consents.get("profiling", True)),
            employer_visibility=EmployerVisibility(
                consents.get("employerVisibility", "PSEUDONYMOUS")
            ),
            push_categories=[
                PushCategorySetting(category=p, enabled=bool(push.get(p.value, True)))
                for p in PushCategory
            ],
        )


@strawberry.type(description="The citizen's own profile (no CPR number is ever held).")
class CitizenProfile:
    id: strawberry.ID
    first_name: str
    last_name: str
    email: str | None
    phone: str | None
    postal_code: str
    town: str | None
    region: str | None
    location_approximate: bool = strawberry.field(
        description="Always false since contract 0.2: every accepted postal code is placed at "
        "its own point (kept for compatibility)."
    )
    locale: str
    preferences: JobPreferences
    privacy: PrivacySettings
    created_at: datetime
    blocked_company_count: int = strawberry.field(
        default=0,
        description="How many companies the citizen has blocked (blockCompany; 200 at most). "
        "Added in contract 0.2 (issue 16).",
    )

    @classmethod
    def from_doc(cls, d: dict) -> CitizenProfile:
        return cls(
            id=strawberry.ID(d["_id"]),
            first_name=d["firstName"],
            last_name=d["lastName"],
            email=d.get("email"),
            phone=d.get("phone"),
            postal_code=d["postalCode"],
            town=d.get("town"),
            region=d.get("region"),
            location_approximate=bool(d.get("locationApproximate", False)),
            locale=d.get("locale", "da"),
            preferences=JobPreferences.from_doc(d.get("preferences", {})),
            privacy=PrivacySettings.from_doc(d.get("consents", {})),
            created_at=d["createdAt"],
            blocked_company_count=sum(map(is_valid_cvr, d.get("blockedCompanies", []))),
        )


@strawberry.input
class ProfileInput:
    first_name: str
    last_name: str
    email: str | None = None
    phone: str | None = None
    postal_code: str
    town: str | None = strawberry.field(
        default=None, description="Town name as the citizen knows it; filled in when omitted."
    )
    locale: str = "da"


@strawberry.input
class JobPreferencesInput:
    occupation_ids: list[strawberry.ID] = strawberry.field(default_factory=list)
    radius_km: int = 30
    hours: Hours = Hours.ANY
    contract_types: list[ContractType] = strawberry.field(
        default_factory=lambda: [ContractType.PERMANENT, ContractType.TEMPORARY]
    )
    earliest_start: date | None = strawberry.field(
        default=None, description="At most two years ahead, at least five years back."
    )


@strawberry.input
class PushCategoryInput:
    category: PushCategory
    enabled: bool


@strawberry.input(description="Only the settings given are changed.")
class PrivacySettingsInput:
    profiling: bool | None = None
    employer_visibility: EmployerVisibility | None = None
    push_categories: list[PushCategoryInput] | None = None


@strawberry.type(description="One change of a privacy setting, for the consent history.")
class ConsentChange:
    setting: str = strawberry.field(description="profiling, employerVisibility or push.<CATEGORY>.")
    value: str
    at: datetime
    source: str = strawberry.field(description="SIGN_UP or APP.")

    @classmethod
    def from_doc(cls, d: dict) -> ConsentChange:
        return cls(setting=d["setting"], value=str(d["value"]), at=d["at"], source=d["source"])


@strawberry.type
class ConsentChangeEdge:
    cursor: str
    node: ConsentChange


@strawberry.type
class ConsentChangeConnection:
    edges: list[ConsentChangeEdge]
    page_info: PageInfo


# --- CV -------------------------------------------------------------------------------------
@strawberry.type(description="A job the citizen has had.")
class WorkExperience:
    title: str = strawberry.field(description="The citizen's own wording.")
    occupation_id: strawberry.Private[str | None]
    employer: str | None
    start: str = strawberry.field(description="Month, YYYY-MM.")
    end: str | None = strawberry.field(description="Month, YYYY-MM; null while ongoing.")
    description: str | None

    @strawberry.field(description="The ESCO occupation chosen in the typeahead, if any.")
    async def occupation(self, info: Info) -> Occupation | None:
        if not self.occupation_id:
            return None
        doc = await info.context.loaders.occupation_by_id.load(self.occupation_id)
        return Occupation.from_doc(doc) if doc else None


@strawberry.type
class Education:
    title: str
    level: EducationLevel | None
    institution: str | None
    completed_year: int | None


@strawberry.type
class LanguageSkill:
    language: str
    level: LanguageLevel


@strawberry.type(description="One saved CV variant. The primary one is used for matching.")
class Cv:
    id: strawberry.ID
    name: str
    primary: bool
    work_history: list[WorkExperience]
    education: list[Education]
    courses: list[str] = strawberry.field(description="Courses and certificates.")
    languages: list[LanguageSkill]
    driving_licences: list[DrivingLicence]
    skills: list[str]
    updated_at: datetime

    @classmethod
    def from_doc(cls, d: dict) -> Cv:
        return cls(
            id=strawberry.ID(d["_id"]),
            name=d.get("name", "Mit CV"),
            primary=bool(d.get("primary")),
            work_history=[
                WorkExperience(
                    title=j["title"],
                    occupation_id=j.get("occupationId"),
                    employer=j.get("employer"),
                    start=j["start"],
                    end=j.get("end"),
                    description=j.get("description"),
                )
                for j in d.get("workHistory", [])
            ],
            education=[
                Education(
                    title=e["title"],
                    level=EducationLevel(e["level"]) if e.get("level") else None,
                    institution=e.get("institution"),
                    completed_year=e.get("completedYear"),
                )
                for e in d.get("education", [])
            ],
            courses=list(d.get("courses", [])),
            languages=[
                LanguageSkill(language=x["language"], level=LanguageLevel(x["level"]))
                for x in d.get("languages", [])
            ],
            driving_licences=[DrivingLicence(x) for x in d.get("drivingLicences", [])],
            skills=list(d.get("skills", [])),
            updated_at=d["updatedAt"],
        )


@strawberry.input
class WorkExperienceInput:
    title: str
    occupation_id: strawberry.ID | None = strawberry.field(
        default=None, description="From the occupation typeahead (`occupations(search:)`)."
    )
    employer: str | None = None
    start: str = strawberry.field(description="Month, YYYY-MM.")
    end: str | None = None
    description: str | None = None


@strawberry.input
class EducationInput:
    title: str
    level: EducationLevel | None = None
    institution: str | None = None
    completed_year: int | None = None


@strawberry.input
class LanguageSkillInput:
    language: str
    level: LanguageLevel


@strawberry.input(description="A whole CV; it replaces the stored one. Lists hold 50 at most.")
class CvInput:
    name: str = "Mit CV"
    work_history: list[WorkExperienceInput] = strawberry.field(default_factory=list)
    education: list[EducationInput] = strawberry.field(default_factory=list)
    courses: list[str] = strawberry.field(default_factory=list)
    languages: list[LanguageSkillInput] = strawberry.field(default_factory=list)
    driving_licences: list[DrivingLicence] = strawberry.field(default_factory=list)
    skills: list[str] = strawberry.field(default_factory=list)
