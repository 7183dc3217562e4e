"""Local development tokens: HS256 JWTs signed with a secret kept under ``var/``.

Only used when ``auth_provider`` is ``local`` (the default in local mode); production verifies
Firebase ID tokens instead. ``jobunivers token`` mints them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt

from core.errors import Unauthenticated

from .actor import Actor, Role
from .claims import actor_from_claims
from .erased import ErasedAccounts

ISSUER = "jobunivers-local"
AUDIENCE = "jobunivers"


def mint_local_token(
    secret: str, subject: str, role: Role, cvr: str | None = None, ttl: timedelta | None = None
) -> str:
    now = datetime.now(UTC)
    claims: dict[str, object] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": subject,
        "role": role.value,
        "iat": now,
        # A zero ttl is honoured (the token is expired from the start), only None defaults.
        "exp": now + (timedelta(hours=12) if ttl is None else ttl),
    }
    if cvr is not None:
        claims["cvr"] = cvr
    return jwt.encode(claims, secret, algorithm="HS256")


class LocalTokenVerifier:
    def __init__(self, secret: str, erased: ErasedAccounts | None = None) -> None:
        self._secret = secret
        self.erased = erased or ErasedAccounts()

    async def delete_account(self, uid: str) -> None:
        """Dev tokens have no account store: nothing to delete."""

    async def verify(self, token: str) -> Actor:
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=["HS256"],
                audience=AUDIENCE,
                issuer=ISSUER,
                options={"require": ["exp", "iat", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthenticated(
                "Din session er udløbet. Log ind igen.",
                "Your session has expired. Please sign in again.",
                extensions={"reason": "TOKEN_EXPIRED"},
            ) from None
        except jwt.InvalidTokenError:
            raise Unauthenticated(
                "Dit login-token er ugyldigt.",
                "Your sign-in token is invalid.",
                extensions={"reason": "TOKEN_INVALID"},
            ) from None
        return actor_from_claims(str(claims["sub"]), claims)
