"""Mapping token claims to an Actor, shared by local tokens and Firebase ID tokens."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.cvr import is_valid_cvr
from core.errors import Unauthenticated

from .actor import Actor, Role


def actor_from_claims(subject: str, claims: Mapping[str, Any]) -> Actor:
    # App users sign up themselves and carry no role claim: they are citizens. Employer and
    # caseworker roles are granted by an administrator as custom claims.
    raw_role = claims.get("role") or Role.CITIZEN.value
    try:
        role = Role(raw_role)
    except ValueError:
        raise Unauthenticated(
            "Dit login har en ukendt rolle.", "Your sign-in carries an unknown role."
        ) from None
    cvr = claims.get("cvr")
    if role is Role.EMPLOYER:
        if not isinstance(cvr, str) or not is_valid_cvr(cvr):
            raise Unauthenticated(
                "Din virksomhedskonto mangler et gyldigt CVR-nummer.",
                "Your employer account lacks a valid CVR number.",
            )
    else:
        cvr = None
    return Actor(id=subject, role=role, cvr=cvr)
