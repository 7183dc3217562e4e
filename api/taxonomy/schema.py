from __future__ import annotations

import strawberry
from strawberry.types import Info

from api.auth.permissions import IsAuthenticated

from . import repository
from .types import IscoGroup, Occupation


@strawberry.type
class TaxonomyQuery:
    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="An ESCO occupation by id; null when unknown. Added in contract 0.2.",
    )
    async def occupation(self, info: Info, id: strawberry.ID) -> Occupation | None:
        doc = await info.context.loaders.occupation_by_id.load(str(id))
        return Occupation.from_doc(doc) if doc else None

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="An ISCO-08 group by code (1-4 digits); null when unknown. Added in contract 0.2.",
    )
    async def isco_group(self, info: Info, code: str) -> IscoGroup | None:
        doc = await info.context.loaders.isco_group_by_code.load(code)
        return IscoGroup.from_doc(doc) if doc else None

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="The ten ISCO-08 major groups, the top of the hierarchy. Added in contract 0.2.",
    )
    async def isco_groups(self, info: Info) -> list[IscoGroup]:
        return [IscoGroup.from_doc(d) for d in await repository.top_level_groups(info.context.db)]
