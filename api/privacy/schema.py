from __future__ import annotations

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from api.auth.permissions import IsCitizen
from api.pagination import check_first, decode_time_cursor, time_page

from . import service
from .types import AccountDeletion, CvView, CvViewConnection, CvViewEdge, DataSection, MyData


@strawberry.type
class PrivacyQuery:
    @strawberry.field(
        permission_classes=[IsCitizen],
        description="Mine data: every kind of data held about the citizen, why, and how much.",
    )
    async def my_data(self, info: Info) -> MyData:
        ctx = info.context
        sections = await service.my_data(ctx.db, ctx.require_actor(), ctx.locale)
        return MyData(
            sections=[DataSection(**s) for s in sections], export_format=service.EXPORT_FORMAT
        )

    @strawberry.field(
        permission_classes=[IsCitizen],
        description=(
            "All data held about the citizen as one JSON document (format "
            "jobunivers.my-data version 1, described in mobile_contract/my-data.schema.json)."
        ),
    )
    async def export_my_data(self, info: Info) -> JSON:
        ctx = info.context
        return await service.export_my_data(ctx.db, ctx.require_actor(), ctx.locale)

    @strawberry.field(
        permission_classes=[IsCitizen],
        description="Hvem har set mit CV: each time a company opened the profile, newest first.",
    )
    async def cv_views(
        self, info: Info, first: int = 20, after: str | None = None
    ) -> CvViewConnection:
        check_first(first)
        docs = await service.cv_views(
            info.context.db, info.context.require_actor(), first, decode_time_cursor(after)
        )
        return time_page(CvViewConnection, CvViewEdge, docs, first, "viewedAt", CvView.from_doc)


@strawberry.type
class PrivacyMutation:
    @strawberry.mutation(
        permission_classes=[IsCitizen],
        description=(
            "Erase the account and all personal data. Open meeting requests are withdrawn and "
            "the companies told (without the citizen's name). Cannot be undone; confirm must "
            "be true. Afterwards every token of the account answers UNAUTHENTICATED with "
            "extensions.reason ACCOUNT_DELETED (from contract 0.2), and the account cannot be "
            "created again."
        ),
    )
    async def delete_my_account(self, info: Info, confirm: bool) -> AccountDeletion:
        ctx = info.context
        receipt = await service.delete_my_account(
            ctx.db, ctx.verifier, ctx.require_actor(), confirm
        )
        return AccountDeletion(
            deleted_at=receipt["deletedAt"],
            withdrawn_meeting_requests=receipt["withdrawnMeetingRequests"],
            records_erased=receipt["recordsErased"],
        )
