"""Permission classes for resolvers. They raise domain errors so the client gets a stable code
(UNAUTHENTICATED when no valid token, FORBIDDEN for the wrong role)."""

from __future__ import annotations

from typing import Any, ClassVar

from strawberry.permission import BasePermission
from strawberry.types import Info

from core.errors import Forbidden

from .actor import Role


class IsAuthenticated(BasePermission):
    message = "Du skal være logget ind."

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        info.context.require_actor()  # raises Unauthenticated with the precise reason
        return True


class _HasRole(BasePermission):
    roles: ClassVar[frozenset[Role]] = frozenset()
    message = "Du har ikke adgang til dette."

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        actor = info.context.require_actor()
        if actor.role not in self.roles:
            raise Forbidden()
        return True


class IsCitizen(_HasRole):
    roles = frozenset({Role.CITIZEN})


class IsEmployer(_HasRole):
    roles = frozenset({Role.EMPLOYER})


class IsCitizenOrEmployer(_HasRole):
    roles = frozenset({Role.CITIZEN, Role.EMPLOYER})
