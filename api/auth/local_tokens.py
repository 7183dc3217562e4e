"""Local development tokens: HS256 JWTs signed with a secret kept under ``var/``.

Only used when ``auth_provider`` is ``local`` (the default in local mode); production verifies
Firebase ID tokens instead. ``jobunivers token`` mints them. No token lives longer than
``local_token_max_ttl_hours`` (``exp - iat``), whatever its ``exp`` says: one minted with a
longer life is refused.
"""

from __future__ import annotations

import hashlib
import os
import time
from datetime import UTC, datetime, timedelta

import jwt

from core.errors import Unauthenticated

from .actor import Actor, Role
from .claims import actor_from_claims
from .erased import ErasedAccounts

ISSUER = "jobunivers-local"
AUDIENCE = "jobunivers"
DEFAULT_MAX_TTL = timedelta(days=30)  # the setting's default (local_token_max_ttl_hours)
# Tokens verified once are remembered (by their SHA-256) until they expire: a signature check
# and claims parsing per request was a tenth of the typeahead's request path (issue 17).
MAX_REMEMBERED = 10_000
# `jobunivers bench load --env JOBUNIVERS_REQUEST_PATH_BASELINE=1`: the request path before
# issue 17 (every request verifies its token), kept only to measure beside the new one.
REMEMBER_TOKENS = os.environ.get("JOBUNIVERS_REQUEST_PATH_BASELINE") != "1"


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
        self.remember = REMEMBER_TOKENS
        # SHA-256 of a token verified here -> (its actor, its exp as a POSIX time). Only
        # tokens that verified are kept, each until its exp: the answer for a token cannot
        # change before then (HS256 with this process's secret; no revocation for dev
        # tokens). Erasure is not part of it: ``api.context.authenticate`` checks the
        # erased-account set on every request, cached or not.
        self._verified: dict[bytes, tuple[Actor, float]] = {}

    async def delete_account(self, uid: str) -> None:
        """Dev tokens have no account store: nothing to delete."""

    async def verify(self, token: str) -> Actor:
        if not self.remember:
            return self._verify(token)
        key = hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()
        known = self._verified.get(key)
        if known is not None:
            if time.time() < known[1]:
                return known[0]
            del self._verified[key]  # expired: verified again, answering TOKEN_EXPIRED
        actor = self._verify(token)
        if actor.expires_at is not None:
            if len(self._verified) >= MAX_REMEMBERED:
                self._forget_expired()
            self._verified[key] = (actor, actor.expires_at.timestamp())
        return actor

    def _forget_expired(self) -> None:
        now = time.time()
        self._verified = {k: v for k, v in self._verified.items() if v[1] > now}
        if len(self._verified) >= MAX_REMEMBERED:
            self._verified.clear()

    def _verify(self, token: str) -> Actor:
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
