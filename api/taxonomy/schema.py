from __future__ import annotations

import asyncio
import os
from typing import TYPE_CHECKING

import strawberry
from strawberry.types import Info

from api.auth.permissions import IsAuthenticated
from api.pagination import check_first
from core.errors import BadUserInput, Unavailable

from . import repository
from .loaders import occupation_docs
from .types import IscoGroup, Occupation, OccupationMatch

if TYPE_CHECKING:
    from matching.titles import TitleNormalizer


# The typeahead before issue 17 (the full hybrid search, embedding every keystroke), kept
# only so `jobunivers bench load --op typeahead --env JOBUNIVERS_TYPEAHEAD_BASELINE=1` can
# measure it beside the lexical typeahead.
_TYPEAHEAD_BASELINE = os.environ.get("JOBUNIVERS_TYPEAHEAD_BASELINE") == "1"


def _titles(info: Info, text: str, first: int) -> TitleNormalizer:
    check_first(first)
    if len(text) > 120:
        raise BadUserInput("Teksten er for lang (højst 120 tegn).", "Text too long (120 at most).")
    titles = info.context.engine.titles
    if titles is None:
        raise Unavailable(
            "Stillingsbetegnelser er ved at blive klargjort. Prøv igen om lidt.",
            "Job titles are being prepared. Please try again shortly.",
        )
    return titles


async def _title_matches(info: Info, text: str, first: int) -> list[OccupationMatch]:
    _titles(info, text, first)
    # Embeds the text: in a thread, off the event loop.
    matches = await asyncio.to_thread(info.context.engine.normalize_title, text, first)
    return [
        OccupationMatch(
            occupation_id=m.occupation_id, score=round(m.score, 4), matched_label=m.label
        )
        for m in matches
    ]


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

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description=(
            "Map a free-text job title (Danish or English, typos allowed) to ESCO occupations, "
            "best first. Added in contract 0.2."
        ),
    )
    async def normalize_title(self, info: Info, text: str, first: int = 5) -> list[OccupationMatch]:
        return await _title_matches(info, text, first)

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="Typeahead for the CV's job titles. Added in contract 0.2.",
    )
    async def occupations(self, info: Info, search: str, first: int = 10) -> list[Occupation]:
        titles = _titles(info, search, first)
        if _TYPEAHEAD_BASELINE:
            matches = await asyncio.to_thread(titles.search, search, first, None, False)
        else:
            # The lexical index answers (about a millisecond, or a cached answer; no embedding)
            # on the event loop; only a query it cannot answer embeds, in a thread.
            matches = titles.typeahead_lexical(search, first)
            if matches is None:
                matches = await asyncio.to_thread(titles.typeahead, search, first)
        # The documents come from memory, kept with the taxonomy the engine loaded (``titles``
        # is rebuilt on every load); only the first request naming an occupation reads it.
        docs = await occupation_docs(
            titles, [m.occupation_id for m in matches], info.context.loaders.occupation_by_id
        )
        return [Occupation.from_doc(d) for d in docs]
