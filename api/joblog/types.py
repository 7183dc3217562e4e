from __future__ import annotations

from datetime import date, datetime
from enum import Enum

import strawberry
from strawberry.types import Info

from api.jobs.types import JobPosting
from api.pagination import PageInfo
from matching.records import PostingRecord


@strawberry.enum
class ApplicationKind(Enum):
    POSTING = "POSTING"
    UNSOLICITED = "UNSOLICITED"


@strawberry.enum(description="How the application was made.")
class ApplicationForm(Enum):
    WRITTEN = "WRITTEN"
    IN_PERSON = "IN_PERSON"
    PHONE = "PHONE"
    EMAIL = "EMAIL"
    VIDEO = "VIDEO"


@strawberry.enum
class ApplicationStatus(Enum):
    SENT = "SENT"
    INTERVIEW = "INTERVIEW"
    REJECTED = "REJECTED"
    HIRED = "HIRED"


@strawberry.enum(description="Who made the entry: the citizen, or the app on an event.")
class ApplicationSource(Enum):
    MANUAL = "MANUAL"
    APP = "APP"
    MEETING = "MEETING"


async def _posting(info: Info, posting_id: str | None) -> JobPosting | None:
    if not posting_id:
        return None
    doc = await info.context.loaders.posting_by_id.load(posting_id)
    return JobPosting.from_record(PostingRecord.from_doc(doc)) if doc else None


@strawberry.type(description="One application in the joblog (Dine søgte job).")
class JobApplication:
    id: strawberry.ID
    applied_on: date
    kind: ApplicationKind
    form: ApplicationForm
    status: ApplicationStatus
    company_name: str
    job_title: str
    note: str | None
    source: ApplicationSource
    updated_at: datetime
    posting_id: strawberry.Private[str | None]

    @strawberry.field(description="The posting applied to, when it is in Jobunivers.")
    async def posting(self, info: Info) -> JobPosting | None:
        return await _posting(info, self.posting_id)

    @classmethod
    def from_doc(cls, d: dict) -> JobApplication:
        return cls(
            id=strawberry.ID(d["_id"]),
            applied_on=d["appliedOn"].date(),
            kind=ApplicationKind(d["kind"]),
            form=ApplicationForm(d["form"]),
            status=ApplicationStatus(d["status"]),
            company_name=d["companyName"],
            job_title=d["jobTitle"],
            note=d.get("note"),
            source=ApplicationSource(d["source"]),
            updated_at=d["updatedAt"],
            posting_id=d.get("postingId"),
        )


@strawberry.input(
    description=(
        "An application for the joblog. Adding: appliedOn and form are required, kind defaults "
        "to POSTING and status to SENT, and companyName and jobTitle are required unless "
        "postingId gives them. Updating (updateJobApplication) is partial: a field left out "
        "stays as it is; null clears note, postingId (the entry keeps its company and title) "
        "and companyName or jobTitle of an entry with a posting (they follow the posting "
        "again); null for any other field answers BAD_USER_INPUT. Partial updates since "
        "contract 0.2."
    )
)
class JobApplicationInput:
    applied_on: date | None = strawberry.UNSET
    form: ApplicationForm | None = strawberry.UNSET
    kind: ApplicationKind | None = strawberry.field(
        default=strawberry.UNSET, description="POSTING when adding without it."
    )
    status: ApplicationStatus | None = strawberry.field(
        default=strawberry.UNSET, description="SENT when adding without it."
    )
    posting_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET,
        description="When the job is in Jobunivers; company and title follow it.",
    )
    company_name: str | None = strawberry.UNSET
    job_title: str | None = strawberry.UNSET
    note: str | None = strawberry.UNSET


@strawberry.type
class JobApplicationEdge:
    cursor: str
    node: JobApplication


@strawberry.type
class JobApplicationConnection:
    edges: list[JobApplicationEdge]
    page_info: PageInfo


@strawberry.type(description="A posting the citizen saved.")
class SavedJob:
    saved_at: datetime
    posting_id: strawberry.ID

    @strawberry.field(description="Null if the posting has since been removed.")
    async def posting(self, info: Info) -> JobPosting | None:
        return await _posting(info, str(self.posting_id))

    @classmethod
    def from_doc(cls, d: dict) -> SavedJob:
        return cls(saved_at=d["savedAt"], posting_id=strawberry.ID(d["postingId"]))


@strawberry.type
class SavedJobEdge:
    cursor: str
    node: SavedJob


@strawberry.type
class SavedJobConnection:
    edges: list[SavedJobEdge]
    page_info: PageInfo
