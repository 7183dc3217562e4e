"""Role permission classes on a schema built the same way as the app's."""

from __future__ import annotations

import strawberry

from api.auth.actor import Actor, Role
from api.auth.permissions import IsCitizen, IsEmployer
from api.context import AuthResult
from api.errors import PresentingSchema


@strawberry.type
class Query:
    @strawberry.field(permission_classes=[IsCitizen])
    def citizen_only(self) -> str:
        return "citizen"

    @strawberry.field(permission_classes=[IsEmployer])
    def employer_only(self) -> str:
        return "employer"


class Ctx:
    def __init__(self, actor: Actor | None) -> None:
        self.auth = AuthResult(actor=actor)
        self.locale = "da"
        self.request_id = "r1"

    def require_actor(self) -> Actor:
        from core.errors import Unauthenticated

        if self.auth.actor is None:
            raise Unauthenticated()
        return self.auth.actor


schema = PresentingSchema(query=Query)


async def _codes(actor: Actor | None, field: str) -> list[str] | str:
    result = await schema.execute(f"{{ {field} }}", context_value=Ctx(actor))
    if result.errors:
        return [e.extensions["code"] for e in result.errors]
    return result.data[field]


async def test_role_matrix():
    citizen = Actor("c1", Role.CITIZEN)
    employer = Actor("e1", Role.EMPLOYER, "37741892")
    caseworker = Actor("w1", Role.CASEWORKER)
    assert await _codes(citizen, "citizenOnly") == "citizen"
    assert await _codes(employer, "citizenOnly") == ["FORBIDDEN"]
    assert await _codes(caseworker, "citizenOnly") == ["FORBIDDEN"]
    assert await _codes(None, "citizenOnly") == ["UNAUTHENTICATED"]
    assert await _codes(employer, "employerOnly") == "employer"
    assert await _codes(citizen, "employerOnly") == ["FORBIDDEN"]
