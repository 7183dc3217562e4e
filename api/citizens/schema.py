from __future__ import annotations

import strawberry
from strawberry.types import Info

from api.auth.permissions import IsCitizen
from api.inputs import plain
from api.pagination import check_first, decode_time_cursor, time_page

from . import service
from .types import (
    CitizenProfile,
    ConsentChange,
    ConsentChangeConnection,
    ConsentChangeEdge,
    Cv,
    CvInput,
    JobPreferencesInput,
    PrivacySettingsInput,
    ProfileInput,
)


@strawberry.type
class CitizensQuery:
    @strawberry.field(
        permission_classes=[IsCitizen],
        description="The signed-in citizen's profile; null until it is filled in.",
    )
    async def my_profile(self, info: Info) -> CitizenProfile | None:
        doc = await service.my_profile(info.context.db, info.context.require_actor())
        return CitizenProfile.from_doc(doc) if doc else None

    @strawberry.field(
        permission_classes=[IsCitizen],
        description="All the citizen's CV variants, the primary one first (10 at most).",
    )
    async def my_cvs(self, info: Info) -> list[Cv]:
        docs = await service.list_cvs(info.context.db, info.context.require_actor())
        return [Cv.from_doc(d) for d in docs]

    @strawberry.field(permission_classes=[IsCitizen], description="One of the citizen's CVs.")
    async def cv(self, info: Info, id: strawberry.ID) -> Cv:
        return Cv.from_doc(
            await service.get_cv(info.context.db, info.context.require_actor(), str(id))
        )

    @strawberry.field(
        permission_classes=[IsCitizen],
        description="Every change of the citizen's privacy settings, newest first.",
    )
    async def consent_history(
        self, info: Info, first: int = 20, after: str | None = None
    ) -> ConsentChangeConnection:
        check_first(first)
        docs = await service.consent_history(
            info.context.db, info.context.require_actor(), first, decode_time_cursor(after)
        )
        return time_page(
            ConsentChangeConnection, ConsentChangeEdge, docs, first, "at", ConsentChange.from_doc
        )


@strawberry.type
class CitizensMutation:
    @strawberry.mutation(
        permission_classes=[IsCitizen],
        description="Create (first time) or change the citizen's profile.",
    )
    async def update_my_profile(self, info: Info, input: ProfileInput) -> CitizenProfile:
        doc = await service.update_profile(
            info.context.db, info.context.require_actor(), plain(input)
        )
        return CitizenProfile.from_doc(doc)

    @strawberry.mutation(
        permission_classes=[IsCitizen],
        description="Set the job wishes; suggestions follow at once.",
    )
    async def update_my_job_preferences(
        self, info: Info, input: JobPreferencesInput
    ) -> CitizenProfile:
        ctx = info.context
        doc = await service.update_preferences(
            ctx.db, ctx.engine, ctx.require_actor(), plain(input)
        )
        return CitizenProfile.from_doc(doc)

    @strawberry.mutation(
        permission_classes=[IsCitizen],
        description=(
            "Change privacy settings. Each change is written to the consent history; turning "
            "profiling off deletes the profile embedding at once."
        ),
    )
    async def update_my_privacy_settings(
        self, info: Info, input: PrivacySettingsInput
    ) -> CitizenProfile:
        ctx = info.context
        doc = await service.update_privacy(ctx.db, ctx.engine, ctx.require_actor(), plain(input))
        return CitizenProfile.from_doc(doc)

    @strawberry.mutation(
        permission_classes=[IsCitizen],
        description="Add a CV variant. The first CV becomes the primary one.",
    )
    async def create_cv(self, info: Info, input: CvInput, primary: bool = False) -> Cv:
        ctx = info.context
        doc = await service.create_cv(
            ctx.db, ctx.engine, ctx.require_actor(), plain(input), primary
        )
        return Cv.from_doc(doc)

    @strawberry.mutation(
        permission_classes=[IsCitizen],
        description="Replace a CV's content. All of it is checked first; if any part is "
        "invalid, nothing changes.",
    )
    async def update_cv(self, info: Info, id: strawberry.ID, input: CvInput) -> Cv:
        ctx = info.context
        doc = await service.update_cv(
            ctx.db, ctx.engine, ctx.require_actor(), str(id), plain(input)
        )
        return Cv.from_doc(doc)

    @strawberry.mutation(permission_classes=[IsCitizen], description="Copy a CV under a new name.")
    async def duplicate_cv(self, info: Info, id: strawberry.ID, name: str) -> Cv:
        ctx = info.context
        doc = await service.duplicate_cv(ctx.db, ctx.engine, ctx.require_actor(), str(id), name)
        return Cv.from_doc(doc)

    @strawberry.mutation(
        permission_classes=[IsCitizen],
        description="Make a CV the primary one (used for matching and shown to companies).",
    )
    async def set_primary_cv(self, info: Info, id: strawberry.ID) -> Cv:
        ctx = info.context
        doc = await service.set_primary_cv(ctx.db, ctx.engine, ctx.require_actor(), str(id))
        return Cv.from_doc(doc)

    @strawberry.mutation(
        permission_classes=[IsCitizen],
        description="Delete a CV. If it was primary, the most recently changed other CV "
        "becomes primary.",
    )
    async def delete_cv(self, info: Info, id: strawberry.ID) -> bool:
        ctx = info.context
        return await service.delete_cv(ctx.db, ctx.engine, ctx.require_actor(), str(id))
