from __future__ import annotations

from datetime import timedelta
from typing import Protocol

from core.settings import Settings

from .actor import Actor
from .erased import ErasedAccounts, erased_accounts


class SignInAccounts(Protocol):
    async def delete_account(self, uid: str) -> None:
        """Remove the sign-in account itself (after the citizen erased their data). Raises
        when the account store cannot be reached; an account already gone is no error."""


class TokenVerifier(SignInAccounts, Protocol):
    # The accounts erased (checked after every verification, ``api.context.authenticate``).
    erased: ErasedAccounts

    async def verify(self, token: str) -> Actor: ...


def build_sign_in_accounts(settings: Settings) -> TokenVerifier:
    """The configured provider, without the app's erased-account set (housekeeping uses it to
    delete the sign-in accounts that erasure could not)."""
    if settings.auth_provider == "firebase":
        from .firebase import FirebaseTokenVerifier, firebase_app

        return FirebaseTokenVerifier(firebase_app(settings), retry_after_s=settings.retry_after_s)
    from .local_tokens import LocalTokenVerifier

    return LocalTokenVerifier(
        settings.resolved_local_token_secret(),
        max_ttl=timedelta(hours=settings.local_token_max_ttl_hours),
    )


def build_verifier(settings: Settings) -> TokenVerifier:
    """The app's verifier, with an erased-account set that housekeeping keeps in step with the
    database."""
    verifier = build_sign_in_accounts(settings)
    verifier.erased = erased_accounts(settings)
    return verifier
