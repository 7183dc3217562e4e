from __future__ import annotations

import strawberry
from strawberry.types import Info

from api.pagination import Connection, Edge, PageInfo, check_first, decode_key, encode_cursor

from . import repository


@strawberry.type(description="An ESCO occupation with its Danish (and English) names.")
class Occupation:
    id: strawberry.ID
    uri: str = strawberry.field(description="The ESCO concept URI.")
    label_da: str
    label_en: str
    alternative_labels: list[str] = strawberry.field(description="Other Danish names.")
    description_en: str = strawberry.field(description="ESCO's English description.")
    isco_code: str = strawberry.field(description="The ISCO-08 unit group (4 digits).")

    @strawberry.field(description="The name in the caller's language (Danish unless `en`).")
    def label(self, info: Info) -> str:
        return self.label_en if info.context.locale == "en" else self.label_da

    @strawberry.field(description="The ISCO-08 unit group the occupation belongs to.")
    async def isco_group(self, info: Info) -> IscoGroup | None:
        doc = await info.context.loaders.isco_group_by_code.load(self.isco_code)
        return IscoGroup.from_doc(doc) if doc else None

    @classmethod
    def from_doc(cls, d: dict) -> Occupation:
        return cls(
            id=strawberry.ID(d["_id"]),
            uri=d["uri"],
            label_da=d["labelDa"],
            label_en=d["labelEn"],
            alternative_labels=d.get("altLabelsDa", []),
            description_en=d.get("descriptionEn", ""),
            isco_code=d["iscoCode"],
        )


@strawberry.type(description="An ISCO-08 group (DISCO-08): level 1 (major) to 4 (unit).")
class IscoGroup:
    code: str
    level: int
    label: str = strawberry.field(description="Danish name.")
    parent_code: strawberry.Private[str | None]

    @strawberry.field
    async def parent(self, info: Info) -> IscoGroup | None:
        if self.parent_code is None:
            return None
        doc = await info.context.loaders.isco_group_by_code.load(self.parent_code)
        return IscoGroup.from_doc(doc) if doc else None

    @strawberry.field(description="The groups one level down, by code.")
    async def children(self, info: Info) -> list[IscoGroup]:
        docs = await info.context.loaders.isco_children_by_parent.load(self.code)
        return [IscoGroup.from_doc(d) for d in docs]

    @strawberry.field(description="Occupations in this group or below, by Danish name.")
    async def occupations(
        self, info: Info, first: int = 20, after: str | None = None
    ) -> Connection[Occupation]:
        check_first(first)
        docs = await repository.occupations_in_group(
            info.context.db, self.code, first, decode_key(after, (str, str))
        )
        page = docs[:first]
        edges = [
            Edge(cursor=encode_cursor([d["labelDa"], d["_id"]]), node=Occupation.from_doc(d))
            for d in page
        ]
        return Connection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=len(docs) > first, end_cursor=edges[-1].cursor if edges else None
            ),
        )

    @classmethod
    def from_doc(cls, d: dict) -> IscoGroup:
        return cls(code=d["_id"], level=d["level"], label=d["labelDa"], parent_code=d["parent"])


@strawberry.type(description="An occupation a free-text title was mapped to.")
class OccupationMatch:
    occupation_id: strawberry.Private[str]
    score: float = strawberry.field(description="0-1; higher is closer.")
    matched_label: str = strawberry.field(description="The label that matched best.")

    @strawberry.field
    async def occupation(self, info: Info) -> Occupation:
        doc = await info.context.loaders.occupation_by_id.load(self.occupation_id)
        return Occupation.from_doc(doc)
