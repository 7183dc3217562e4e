"""Mapping token claims to an Actor, shared by local tokens and Firebase ID tokens."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from core.cvr import is_valid_cvr
from core.errors import Unauthenticated

from .actor import Actor, Role

MAX_SUBJECT_CHARS = 128  # Firebase's limit for a uid


def _token_invalid() -> Unauthenticated:
    return Unauthenticated(
        "Dit login-token er ugyldigt.",
        "Your sign-in token is invalid.",
        extensions={"reason": "TOKEN_INVALID"},
    )


def valid_subject(subject: object) -> bool:
    """An account id: 1-128 printable characters, none of them whitespace (no control,
    format (zero-width, bidi override), separator or surrogate characters)."""
    return (
        isinstance(subject, str)
        and 0 < len(subject) <= MAX_SUBJECT_CHARS
        and all(ch.isprintable() and not ch.isspace() for ch in subject)
    )


def valid_cvr_claim(cvr: object) -> bool:
    """Eight ASCII digits with a valid check digit. ``str.isdigit`` alone also says yes to
    superscript and Arabic-Indic digits, so ASCII is checked first."""
    return isinstance(cvr, str) and cvr.isascii() and cvr.isdigit() and is_valid_cvr(cvr)


def _expiry(claims: Mapping[str, Any]) -> datetime | None:
    exp = claims.get("exp")
    if isinstance(exp, bool) or not isinstance(exp, int | float):
        return None
    try:
        return datetime.fromtimestamp(exp, UTC)
    except (OverflowError, OSError, ValueError):
        raise _token_invalid() from None


def actor_from_claims(subject: object, claims: Mapping[str, Any]) -> Actor:
    if not valid_subject(subject):
        raise _token_invalid()
    assert isinstance(subject, str)
    # App users sign up themselves and carry no role claim: they are citizens. Employer and
    # caseworker roles are granted by an administrator as custom claims.
    raw_role = claims.get("role") or Role.CITIZEN.value
    try:
        role = Role(raw_role) if isinstance(raw_role, str) else None
    except ValueError:
        role = None
    if role is None:
        raise Unauthenticated(
            "Dit login har en ukendt rolle.", "Your sign-in carries an unknown role."
        )
    cvr = claims.get("cvr")
    if role is Role.EMPLOYER:
        if not valid_cvr_claim(cvr):
            raise Unauthenticated(
                "Din virksomhedskonto mangler et gyldigt CVR-nummer.",
                "Your employer account lacks a valid CVR number.",
            )
    else:
        cvr = None
    return Actor(id=subject, role=role, cvr=cvr, expires_at=_expiry(claims))
