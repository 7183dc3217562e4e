from __future__ import annotations

from typing import Protocol

from core.settings import Settings

from .actor import Actor


class TokenVerifier(Protocol):
    async def verify(self, token: str) -> Actor: ...

    async def delete_account(self, uid: str) -> None:
        """Remove the sign-in account itself (after the citizen erased their data)."""


def build_verifier(settings: Settings) -> TokenVerifier:
    if settings.auth_provider == "firebase":
        from .firebase import FirebaseTokenVerifier, firebase_app

        return FirebaseTokenVerifier(firebase_app(settings))
    from .local_tokens import LocalTokenVerifier

    return LocalTokenVerifier(settings.resolved_local_token_secret())
