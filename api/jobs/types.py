from __future__ import annotations

from datetime import date, datetime

import strawberry
from strawberry.types import Info

from api import validation
from api.jobs import service
from api.pagination import PageInfo
from api.taxonomy.types import Occupation
from matching.records import PostingRecord, RankedJob

# The enums are the services' own, so each list of values is spelled once.
Hours = strawberry.enum(validation.Hours, description="Working hours.")
NotInterestedReason = strawberry.enum(
    service.NotInterestedReason,
    description="Why a suggestion did not fit; used only to improve this citizen's suggestions.",
)


@strawberry.type(description="The citizen's answer to a suggestion.")
class JobFeedback:
    posting_id: strawberry.ID
    reason: NotInterestedReason
    created_at: datetime


@strawberry.type(description="A job posting (jobopslag).")
class JobPosting:
    id: strawberry.ID
    title: str
    company_name: str
    company_cvr: str
    town: str
    hours: Hours
    posted_at: datetime
    deadline: datetime
    occupation_id: strawberry.Private[str]

    @strawberry.field(description="The full posting text.")
    async def description(self, info: Info) -> str | None:
        doc = await info.context.loaders.posting_by_id.load(str(self.id))
        return doc.get("description") if doc else None

    @strawberry.field
    async def contract_type(self, info: Info) -> str | None:
        doc = await info.context.loaders.posting_by_id.load(str(self.id))
        return doc.get("contractType") if doc else None

    @strawberry.field(description="OPEN, CLOSED or EXPIRED.")
    async def status(self, info: Info) -> str:
        doc = await info.context.loaders.posting_by_id.load(str(self.id))
        return doc.get("status", "OPEN") if doc else "CLOSED"

    @strawberry.field(description="The ESCO occupation the posting is registered under.")
    async def occupation(self, info: Info) -> Occupation | None:
        doc = await info.context.loaders.occupation_by_id.load(self.occupation_id)
        return Occupation.from_doc(doc) if doc else None

    @classmethod
    def from_record(cls, r: PostingRecord) -> JobPosting:
        return cls(
            id=strawberry.ID(r.id),
            title=r.title,
            company_name=r.company_name,
            company_cvr=r.company_cvr,
            town=r.town,
            hours=Hours(r.hours),
            posted_at=r.posted_at,
            deadline=r.deadline,
            occupation_id=r.occupation_id,
        )


@strawberry.type(description="Why a job was suggested.")
class JobExplanation:
    summary: str
    reasons: list[str]
    matched_cv_items: list[str] = strawberry.field(description="CV items that drove the match.")
    occupation_label: str | None
    requirements_met: list[str]
    requirements_missing: list[str] = strawberry.field(
        description="Required skills the CV does not show."
    )


@strawberry.type(description="A suggested job with its score and explanation.")
class RecommendedJob:
    posting: JobPosting
    score: float = strawberry.field(description="0-1; higher is a better fit. 0 without profiling.")
    broadened: bool = strawberry.field(
        description=(
            "Not a full match: a related job (the same field) or one outside the field "
            "(outsideField), offered after the full matches because they were few."
        )
    )
    broadened_reason: str | None
    distance_km: float | None
    explanation: JobExplanation
    outside_field: bool = strawberry.field(
        default=False,
        description=(
            "True when the job relates only weakly to what the citizen has done or wishes "
            'for: show it as outside their field ("Et nyt felt, du kan prøve"). Such jobs '
            "are broadened and come after the fitting ones. Added in contract 0.2 (issue 14)."
        ),
    )
    beyond_radius: bool = strawberry.field(
        default=False,
        description=(
            "A fitting job beyond the citizen's radius, added because fewer than five lie "
            "within it; distanceKm and the reasons say how far. Added in contract 0.2 "
            "(issue 14)."
        ),
    )

    @classmethod
    def from_ranked(cls, job: RankedJob) -> RecommendedJob:
        e = job.explanation
        return cls(
            posting=JobPosting.from_record(job.posting),
            score=round(job.score, 4),
            broadened=job.broadened,
            broadened_reason=job.broadened_reason,
            distance_km=round(job.components.get("distance_km", 0.0), 1),
            outside_field=job.outside_field,
            beyond_radius=job.beyond_radius,
            explanation=JobExplanation(
                summary=e.summary,
                reasons=e.reasons,
                matched_cv_items=e.matched_cv_items,
                occupation_label=e.occupation_label,
                requirements_met=e.requirements_met,
                requirements_missing=e.requirements_missing,
            ),
        )


@strawberry.input(description="Narrow the suggestions; unset fields use the citizen's preferences.")
class JobFilter:
    radius_km: int | None = None
    hours: Hours | None = None
    search: str | None = strawberry.field(default=None, description="Words in title or company.")


@strawberry.type
class RecommendedJobEdge:
    cursor: str
    node: RecommendedJob


@strawberry.type
class RecommendedJobConnection:
    edges: list[RecommendedJobEdge]
    page_info: PageInfo
    profiling: bool = strawberry.field(
        description="False when the citizen turned CV-based suggestions off: their own choices only."
    )
    fitting_within_radius: int = strawberry.field(
        default=0,
        description=(
            "How many fitting jobs (full matches; without profiling, jobs of a wished "
            "occupation) lie within the radius. Added in contract 0.2 (issue 14)."
        ),
    )
    radius_notice: str | None = strawberry.field(
        default=None,
        description=(
            "Set when fewer than five fitting jobs lie within the citizen's own radius: says "
            "so, and how far the nearest fitting ones beyond it were looked for (those are "
            "marked beyondRadius). Null otherwise, and when the query set radiusKm. Added in "
            "contract 0.2 (issue 14)."
        ),
    )


@strawberry.input
class RequirementInput:
    skill: str
    required: bool = True


@strawberry.input(description="A job posting's content. Lists hold 50 at most.")
class JobPostingInput:
    title: str
    description: str
    occupation_id: strawberry.ID | None = strawberry.field(
        default=None, description="From the typeahead; otherwise the title is normalised."
    )
    weekly_hours: int = strawberry.field(
        default=37, description="1-80 hours a week, kept as given (0 is refused)."
    )
    contract_type: str = "PERMANENT"
    postal_code: str
    town: str | None = None
    deadline: date = strawberry.field(description="Today or later, at most a year ahead.")
    requirements: list[RequirementInput] = strawberry.field(default_factory=list)
