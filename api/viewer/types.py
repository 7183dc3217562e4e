from __future__ import annotations

from enum import Enum

import strawberry
from strawberry.types import Info

from api.auth.actor import Actor, Role


@strawberry.enum(description="What kind of account is calling.")
class ViewerRole(Enum):
    CITIZEN = "citizen"
    EMPLOYER = "employer"
    CASEWORKER = "caseworker"


@strawberry.type(description="A company (virksomhed), identified by its CVR number.")
class Company:
    cvr: str
    name: str
    industry: str | None
    town: str | None


@strawberry.type(description="The authenticated account.")
class Viewer:
    id: strawberry.ID
    role: ViewerRole
    actor: strawberry.Private[Actor]

    @strawberry.field(
        description="Name to greet the user with; null until the profile is filled in."
    )
    async def display_name(self, info: Info) -> str | None:
        loaders = info.context.loaders
        if self.actor.role is Role.CITIZEN:
            doc = await loaders.citizen_by_id.load(self.actor.id)
        elif self.actor.role is Role.EMPLOYER:
            doc = await loaders.employer_by_id.load(self.actor.id)
        else:
            doc = None
        if not doc:
            return None
        name = " ".join(p for p in (doc.get("firstName"), doc.get("lastName")) if p)
        return name or None

    @strawberry.field(description="The company an employer acts for; null for other roles.")
    async def company(self, info: Info) -> Company | None:
        if self.actor.cvr is None:
            return None
        doc = await info.context.loaders.company_by_cvr.load(self.actor.cvr)
        if doc is None:
            return None
        return Company(
            cvr=doc["_id"], name=doc["name"], industry=doc.get("industry"), town=doc.get("town")
        )

    @classmethod
    def from_actor(cls, actor: Actor) -> Viewer:
        return cls(id=strawberry.ID(actor.id), role=ViewerRole(actor.role.value), actor=actor)
