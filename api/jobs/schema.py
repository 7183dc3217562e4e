from __future__ import annotations

import strawberry
from strawberry.types import Info

from api.auth.permissions import IsAuthenticated, IsCitizen, IsEmployer
from api.inputs import plain
from api.pagination import PageInfo, check_first, decode_offset, encode_cursor
from matching.records import Filters, PostingRecord

from . import employer, service
from .repository import get_posting
from .types import (
    JobFeedback,
    JobFilter,
    JobPosting,
    JobPostingInput,
    NotInterestedReason,
    RecommendedJob,
    RecommendedJobConnection,
    RecommendedJobEdge,
)


@strawberry.type
class JobsQuery:
    @strawberry.field(
        permission_classes=[IsCitizen],
        description=(
            "Jobs ranked by fit with the primary CV, each with its explanation; jobs only "
            "weakly related come after the fitting ones, broadened and marked outsideField. "
            "When fewer than five fitting jobs lie within the citizen's own radius, the nearest "
            "fitting ones beyond it are added (beyondRadius) and radiusNotice says so. Citizens "
            "who turned profiling off get results by their own choices only, nothing from the "
            "CV: jobs of a wished occupation, then of its field (broadened), newest first, "
            "within their radius, hours and contract types (a search also finds others, after "
            "them); without wishes every job within those filters, newest first. Added in "
            "contract 0.2."
        ),
    )
    async def recommended_jobs(
        self,
        info: Info,
        first: int = 20,
        after: str | None = None,
        filter: JobFilter | None = None,
    ) -> RecommendedJobConnection:
        check_first(first)
        offset = decode_offset(after, service.MAX_RESULTS)
        f = filter or JobFilter()
        filters = Filters(
            radius_km=f.radius_km, hours=f.hours.value if f.hours else None, search=f.search
        )
        ctx = info.context
        page, more, profiling, notice = await service.recommended_jobs(
            ctx.db,
            ctx.engine,
            ctx.require_actor(),
            offset=offset,
            first=first,
            filters=filters,
            locale=ctx.locale,
        )
        edges = [
            RecommendedJobEdge(
                cursor=encode_cursor([offset + i]), node=RecommendedJob.from_ranked(j)
            )
            for i, j in enumerate(page)
        ]
        return RecommendedJobConnection(
            edges=edges,
            page_info=PageInfo(has_next_page=more, end_cursor=edges[-1].cursor if edges else None),
            profiling=profiling,
            fitting_within_radius=page.fitting_within_radius,
            radius_notice=notice,
        )

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="One job posting by id; null when unknown. Added in contract 0.2.",
    )
    async def job_posting(self, info: Info, id: strawberry.ID) -> JobPosting | None:
        doc = await get_posting(info.context.db, str(id))
        return JobPosting.from_record(PostingRecord.from_doc(doc)) if doc else None


@strawberry.type
class EmployerJobsQuery:
    @strawberry.field(permission_classes=[IsEmployer], description="Your company's postings.")
    async def my_job_postings(
        self, info: Info, status: list[str] | None = None
    ) -> list[JobPosting]:
        docs = await employer.my_postings(
            info.context.db, info.context.require_actor(), status or []
        )
        return [JobPosting.from_record(PostingRecord.from_doc(d)) for d in docs]


@strawberry.type
class EmployerJobsMutation:
    @strawberry.mutation(
        permission_classes=[IsEmployer],
        description="Publish a posting; it is matched to citizens at once.",
    )
    async def create_job_posting(self, info: Info, input: JobPostingInput) -> JobPosting:
        ctx = info.context
        doc = await employer.create_posting(ctx.db, ctx.engine, ctx.require_actor(), plain(input))
        return JobPosting.from_record(PostingRecord.from_doc(doc))

    @strawberry.mutation(permission_classes=[IsEmployer], description="Change an open posting.")
    async def update_job_posting(
        self, info: Info, id: strawberry.ID, input: JobPostingInput
    ) -> JobPosting:
        ctx = info.context
        doc = await employer.update_posting(
            ctx.db, ctx.engine, ctx.require_actor(), str(id), plain(input)
        )
        return JobPosting.from_record(PostingRecord.from_doc(doc))

    @strawberry.mutation(
        permission_classes=[IsEmployer], description="Close a posting; it leaves suggestions."
    )
    async def close_job_posting(self, info: Info, id: strawberry.ID) -> JobPosting:
        ctx = info.context
        doc = await employer.close_posting(ctx.db, ctx.engine, ctx.require_actor(), str(id))
        return JobPosting.from_record(PostingRecord.from_doc(doc))


@strawberry.type
class JobsMutation:
    @strawberry.mutation(
        permission_classes=[IsCitizen],
        description=(
            "Not interested in a suggested job: it is not suggested again, and NOT_MY_FIELD "
            "lowers similar jobs. Added in contract 0.2."
        ),
    )
    async def mark_job_not_interested(
        self, info: Info, posting_id: strawberry.ID, reason: NotInterestedReason
    ) -> JobFeedback:
        doc = await service.mark_not_interested(
            info.context.db, info.context.require_actor(), str(posting_id), reason.value
        )
        return JobFeedback(
            posting_id=strawberry.ID(doc["postingId"]),
            reason=NotInterestedReason(doc["reason"]),
            created_at=doc["createdAt"],
        )

    @strawberry.mutation(
        permission_classes=[IsCitizen],
        description="Take back a not-interested answer. Added in contract 0.2.",
    )
    async def undo_job_not_interested(self, info: Info, posting_id: strawberry.ID) -> bool:
        return await service.undo_not_interested(
            info.context.db, info.context.require_actor(), str(posting_id)
        )
