"""The per-request GraphQL context: who is calling, their locale, the database and DataLoaders.

A new Context (and so new DataLoaders) is made for every HTTP request and every websocket
connection, so cached loads never leak between users.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pymongo.asynchronous.database import AsyncDatabase
from strawberry.fastapi import BaseContext

from core.errors import DomainError, Outage, Unauthenticated
from core.settings import Settings
from matching.engine import MatchingEngine

from .auth.actor import Actor
from .auth.erased import account_deleted
from .auth.verifier import TokenVerifier

if TYPE_CHECKING:
    from .loaders import Loaders


@dataclass
class AuthResult:
    actor: Actor | None = None
    error: DomainError | None = None  # a token was given but refused


def locale_from_header(accept_language: str | None) -> str:
    """Danish unless the client asks for English first."""
    if accept_language and accept_language.strip().lower().startswith("en"):
        return "en"
    return "da"


def bearer_token(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


async def authenticate(verifier: TokenVerifier, token: str | None) -> AuthResult:
    """Who the token is for. A valid token of an erased account is refused like a deleted
    Firebase user (UNAUTHENTICATED, reason ACCOUNT_DELETED), checked in memory
    (``api.auth.erased``).

    A refused token is kept as the result's error (raised when a field needs the caller). An
    outage of the sign-in service (``Outage``, reason AUTH_UNAVAILABLE) is raised instead: the
    request cannot know who is calling, so it is answered as an outage (HTTP 503, or the
    socket closed with 1013), never as a signed-out call."""
    if token is None:
        return AuthResult()
    try:
        actor = await verifier.verify(token)
        if await verifier.erased.holds(actor.id):
            raise account_deleted()
        return AuthResult(actor=actor)
    except Outage:
        raise
    except DomainError as e:
        return AuthResult(error=e)


@dataclass(kw_only=True)
class Context(BaseContext):
    settings: Settings
    db: AsyncDatabase
    verifier: TokenVerifier
    loaders: Loaders
    engine: MatchingEngine
    request_id: str
    locale: str = "da"
    auth: AuthResult = field(default_factory=AuthResult)
    # A websocket's token, kept for the session's rechecks (api/sockets.py); None on HTTP.
    socket_token: str | None = None

    def __post_init__(self) -> None:
        super().__init__()

    @property
    def actor(self) -> Actor | None:
        return self.auth.actor

    def require_actor(self) -> Actor:
        if self.auth.actor is not None:
            return self.auth.actor
        if self.auth.error is not None:
            raise self.auth.error
        raise Unauthenticated()
