from __future__ import annotations

import strawberry
from strawberry.types import Info

from api.auth.permissions import IsEmployer
from api.inputs import plain

from . import service


@strawberry.type(description="The company's profile as citizens and the app show it.")
class CompanyProfile:
    cvr: str
    name: str
    industry: str | None
    street: str | None
    postal_code: str | None
    town: str | None
    size: str | None
    website: str | None

    @classmethod
    def from_doc(cls, d: dict) -> CompanyProfile:
        return cls(
            cvr=d["_id"],
            name=d["name"],
            industry=d.get("industry"),
            street=d.get("street"),
            postal_code=d.get("postalCode"),
            town=d.get("town"),
            size=d.get("size"),
            website=d.get("website"),
        )


@strawberry.input
class CompanyInput:
    name: str
    industry: str
    street: str
    postal_code: str
    town: str | None = None
    size: str = strawberry.field(description="1-9, 10-49, 50-99, 100-249 or 250+.")
    website: str | None = None


@strawberry.type
class CompaniesQuery:
    @strawberry.field(
        permission_classes=[IsEmployer], description="Your company; null until created."
    )
    async def my_company(self, info: Info) -> CompanyProfile | None:
        doc = await service.my_company(info.context.db, info.context.require_actor())
        return CompanyProfile.from_doc(doc) if doc else None


@strawberry.type
class CompaniesMutation:
    @strawberry.mutation(
        permission_classes=[IsEmployer],
        description="Create or change your company's profile (the CVR comes from your account).",
    )
    async def update_my_company(self, info: Info, input: CompanyInput) -> CompanyProfile:
        doc = await service.update_company(
            info.context.db, info.context.require_actor(), plain(input)
        )
        return CompanyProfile.from_doc(doc)
