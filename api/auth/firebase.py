"""Firebase ID tokens, verified by firebase-admin with revocation checks.

``verify_id_token(check_revoked=True)`` also looks the user up, so disabled users and revoked
sessions are refused. firebase-admin is synchronous; it runs in a worker thread, and each of
its HTTP calls (Google's public certificates, the user lookup) gives up after
``HTTP_TIMEOUT_S``. When Google cannot be reached (the certificates cannot be fetched, the
lookup fails or times out) the answer is an outage: UNAVAILABLE with reason AUTH_UNAVAILABLE
and a retry hint, never an internal error; the token itself may well be fine.
"""

from __future__ import annotations

import asyncio
import contextlib

import firebase_admin
import google.auth.exceptions
import requests
from firebase_admin import auth, credentials
from firebase_admin import exceptions as firebase_errors

from core.errors import Outage, Unauthenticated, UnavailableReason
from core.settings import Settings

from .actor import Actor
from .claims import actor_from_claims
from .erased import ErasedAccounts, account_deleted

APP_NAME = "jobunivers-auth"
HTTP_TIMEOUT_S = 10.0  # firebase-admin's default is 120 s: a worker thread stuck that long
DEFAULT_RETRY_AFTER_S = 2

# What a failure to reach Google looks like through firebase-admin: the certificate fetch
# (CertificateFetchError, an UnknownError), the user lookup (UnavailableError,
# DeadlineExceededError, InternalError for a 5xx), or the transport below them.
_UNREACHABLE = (
    firebase_errors.FirebaseError,
    google.auth.exceptions.GoogleAuthError,
    requests.RequestException,
    OSError,
)


def firebase_app(settings: Settings) -> firebase_admin.App:
    try:
        return firebase_admin.get_app(APP_NAME)
    except ValueError:
        pass
    cred = (
        credentials.Certificate(str(settings.firebase_credentials))
        if settings.firebase_credentials
        else None
    )
    options: dict[str, object] = {"httpTimeout": HTTP_TIMEOUT_S}
    if settings.firebase_project_id:
        options["projectId"] = settings.firebase_project_id
    if cred is None:
        # Without a service account (only the Auth emulator in tests): firebase-admin then
        # talks to the emulator with its own placeholder credentials.
        cred = credentials.ApplicationDefault()
    return firebase_admin.initialize_app(cred, options, name=APP_NAME)


class FirebaseTokenVerifier:
    def __init__(
        self,
        app: firebase_admin.App,
        erased: ErasedAccounts | None = None,
        *,
        retry_after_s: int = DEFAULT_RETRY_AFTER_S,
    ) -> None:
        self._app = app
        self.erased = erased or ErasedAccounts()
        self.retry_after_s = retry_after_s

    async def verify(self, token: str) -> Actor:
        try:
            claims = await asyncio.to_thread(
                auth.verify_id_token, token, app=self._app, check_revoked=True
            )
        except auth.RevokedIdTokenError:
            raise Unauthenticated(
                "Din session er afsluttet. Log ind igen.",
                "Your session was revoked. Please sign in again.",
                extensions={"reason": "TOKEN_REVOKED"},
            ) from None
        except auth.UserNotFoundError:
            raise account_deleted() from None
        except auth.UserDisabledError:
            raise Unauthenticated(
                "Din konto er spærret. Kontakt dit jobcenter.",
                "Your account is disabled. Please contact your job centre.",
                extensions={"reason": "USER_DISABLED"},
            ) from None
        except auth.ExpiredIdTokenError:
            raise Unauthenticated(
                "Din session er udløbet. Log ind igen.",
                "Your session has expired. Please sign in again.",
                extensions={"reason": "TOKEN_EXPIRED"},
            ) from None
        except (auth.InvalidIdTokenError, ValueError):
            raise Unauthenticated(
                "Dit login-token er ugyldigt.",
                "Your sign-in token is invalid.",
                extensions={"reason": "TOKEN_INVALID"},
            ) from None
        except _UNREACHABLE as e:
            # The exception names only the type of failure, never the token.
            raise Outage(UnavailableReason.AUTH_UNAVAILABLE, self.retry_after_s) from e
        return actor_from_claims(claims.get("uid"), claims)

    async def delete_account(self, uid: str) -> None:
        """Delete the Firebase user, so the e-mail and sign-in methods go too."""
        with contextlib.suppress(auth.UserNotFoundError):  # already gone: erasure repeats
            await asyncio.to_thread(auth.delete_user, uid, app=self._app)
