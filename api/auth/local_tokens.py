"""Local development tokens: HS256 JWTs signed with a secret kept under ``var/``.

Only used when ``auth_provider`` is ``local`` (the default in local mode); production verifies
Firebase ID tokens instead. ``jobunivers token`` mints them. No token lives longer than
``local_token_max_ttl_hours`` (``exp - iat``), whatever its ``exp`` says: one minted with a
longer life is refused.
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
DEFAULT_MAX_TTL = timedelta(days=30)  # the setting's default (local_token_max_ttl_hours)


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


def _invalid(message_da: str = "Dit login-token er ugyldigt.",
             message_en: str = "Your sign-in token is invalid.") -> Unauthenticated:  # fmt: skip
    return Unauthenticated(message_da, message_en, extensions={"reason": "TOKEN_INVALID"})


class LocalTokenVerifier:
    def __init__(
        self,
        secret: str,
        erased: ErasedAccounts | None = None,
        *,
        max_ttl: timedelta = DEFAULT_MAX_TTL,
    ) -> None:
        self._secret = secret
        self._max_ttl_s = max_ttl.total_seconds()
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
            raise _invalid() from None
        # PyJWT has checked that both are whole numbers (and iat not in the future).
        if int(claims["exp"]) - int(claims["iat"]) > self._max_ttl_s:
            raise _invalid(
                "Dit login-token gælder for længe. Log ind igen.",
                "Your sign-in token is valid for too long. Please sign in again.",
            )
        return actor_from_claims(claims["sub"], claims)
