from __future__ import annotations

import strawberry
from strawberry.types import Info

from api.auth.permissions import IsCitizen
from api.inputs import plain
from api.pagination import check_first, decode_time_cursor, time_page

from . import service
from .types import (
    ApplicationForm,
    JobApplication,
    JobApplicationConnection,
    JobApplicationEdge,
    JobApplicationInput,
    SavedJob,
    SavedJobConnection,
    SavedJobEdge,
)


def given(input: JobApplicationInput) -> dict:
    """The fields the app sent (null included), without those it left out."""
    return {k: v for k, v in plain(input).items() if v is not strawberry.UNSET}


@strawberry.type
class JoblogQuery:
    @strawberry.field(
        permission_classes=[IsCitizen],
        description="The citizen's applications (Dine søgte job), newest first.",
    )
    async def job_applications(
        self, info: Info, first: int = 20, after: str | None = None
    ) -> JobApplicationConnection:
        check_first(first)
        docs = await service.entries(
            info.context.db, info.context.require_actor(), first, decode_time_cursor(after)
        )
        return time_page(
            JobApplicationConnection, JobApplicationEdge, docs, first, "appliedOn",
            JobApplication.from_doc,
        )  # fmt: skip

    @strawberry.field(permission_classes=[IsCitizen], description="Saved postings, newest first.")
    async def saved_jobs(
        self, info: Info, first: int = 20, after: str | None = None
    ) -> SavedJobConnection:
        check_first(first)
        docs = await service.saved_jobs(
            info.context.db, info.context.require_actor(), first, decode_time_cursor(after)
        )
        return time_page(
            SavedJobConnection, SavedJobEdge, docs, first, "savedAt", SavedJob.from_doc
        )


@strawberry.type
class JoblogMutation:
    @strawberry.mutation(permission_classes=[IsCitizen], description="Log an application.")
    async def add_job_application(self, info: Info, input: JobApplicationInput) -> JobApplication:
        doc = await service.add_entry(info.context.db, info.context.require_actor(), given(input))
        return JobApplication.from_doc(doc)

    @strawberry.mutation(
        permission_classes=[IsCitizen],
        description=(
            "Change a logged application, partially: only the fields given change, a field "
            "left out stays as it is. Null clears note and postingId; null companyName or "
            "jobTitle on an entry with a posting makes it follow the posting again; null for "
            "appliedOn, form, kind or status answers BAD_USER_INPUT. If any field is invalid "
            "nothing changes. Partial since contract 0.2 (before, fields left out were reset)."
        ),
    )
    async def update_job_application(
        self, info: Info, id: strawberry.ID, input: JobApplicationInput
    ) -> JobApplication:
        doc = await service.update_entry(
            info.context.db, info.context.require_actor(), str(id), given(input)
        )
        return JobApplication.from_doc(doc)

    @strawberry.mutation(permission_classes=[IsCitizen], description="Remove a logged application.")
    async def delete_job_application(self, info: Info, id: strawberry.ID) -> bool:
        return await service.delete_entry(info.context.db, info.context.require_actor(), str(id))

    @strawberry.mutation(
        permission_classes=[IsCitizen],
        description="Apply to a posting through the app: logged once per posting, and the "
        "posting is no longer suggested.",
    )
    async def apply_to_job(
        self,
        info: Info,
        posting_id: strawberry.ID,
        form: ApplicationForm = ApplicationForm.WRITTEN,
    ) -> JobApplication:
        doc = await service.apply_to_job(
            info.context.db, info.context.require_actor(), str(posting_id), form.value
        )
        return JobApplication.from_doc(doc)

    @strawberry.mutation(permission_classes=[IsCitizen], description="Save a posting for later.")
    async def save_job(self, info: Info, posting_id: strawberry.ID) -> SavedJob:
        doc = await service.save_job(info.context.db, info.context.require_actor(), str(posting_id))
        return SavedJob.from_doc(doc)

    @strawberry.mutation(permission_classes=[IsCitizen], description="Remove a saved posting.")
    async def unsave_job(self, info: Info, posting_id: strawberry.ID) -> bool:
        return await service.unsave_job(
            info.context.db, info.context.require_actor(), str(posting_id)
        )
