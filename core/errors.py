"""Domain errors: a stable code for the app, a Danish message, and an English one for `en` users.

Services raise these; the GraphQL layer turns them into errors with ``extensions.code``.
Anything that is not a ``DomainError`` is masked as an internal error.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class ErrorCode(StrEnum):
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    NOT_FOUND = "NOT_FOUND"
    BAD_USER_INPUT = "BAD_USER_INPUT"
    CONFLICT = "CONFLICT"
    RATE_LIMITED = "RATE_LIMITED"
    UNAVAILABLE = "UNAVAILABLE"
    PERSISTED_QUERY_NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
    PERSISTED_QUERY_REQUIRED = "PERSISTED_QUERY_REQUIRED"
    GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
    QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"  # api/cost.py: too many fields, repeats, points
    PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"  # api/limits.py: the HTTP body is too large (413)
    INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"


class DomainError(Exception):
    """An error the user may see. ``message_da`` is the default text, ``message_en`` for `en`."""

    code: ErrorCode = ErrorCode.BAD_USER_INPUT

    def __init__(
        self,
        message_da: str,
        message_en: str | None = None,
        *,
        code: ErrorCode | None = None,
        extensions: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message_da)
        if code is not None:
            self.code = code
        self.message_da = message_da
        self.message_en = message_en or message_da
        self.extra_extensions = extensions or {}

    def message(self, locale: str | None) -> str:
        return self.message_en if locale == "en" else self.message_da


class Unauthenticated(DomainError):
    code = ErrorCode.UNAUTHENTICATED

    def __init__(
        self,
        message_da: str = "Du skal være logget ind.",
        message_en: str = "You must be signed in.",
        **kw: Any,
    ) -> None:
        super().__init__(message_da, message_en, **kw)


class Forbidden(DomainError):
    code = ErrorCode.FORBIDDEN

    def __init__(
        self,
        message_da: str = "Du har ikke adgang til dette.",
        message_en: str = "You do not have access to this.",
        **kw: Any,
    ) -> None:
        super().__init__(message_da, message_en, **kw)


class NotFound(DomainError):
    code = ErrorCode.NOT_FOUND

    def __init__(
        self,
        message_da: str = "Det findes ikke.",
        message_en: str = "Not found.",
        **kw: Any,
    ) -> None:
        super().__init__(message_da, message_en, **kw)


class BadUserInput(DomainError):
    code = ErrorCode.BAD_USER_INPUT


class Conflict(DomainError):
    code = ErrorCode.CONFLICT


class RateLimited(DomainError):
    code = ErrorCode.RATE_LIMITED


class Unavailable(DomainError):
    """A part of the service is still starting (for example the search index)."""

    code = ErrorCode.UNAVAILABLE


class UnavailableReason(StrEnum):
    """Why the service answers UNAVAILABLE (``extensions.reason``)."""

    DATABASE_UNAVAILABLE = "DATABASE_UNAVAILABLE"  # unreachable, or it cannot work at all
    TIMEOUT = "TIMEOUT"  # the request's deadline (or one database call's) passed
    OVERLOADED = "OVERLOADED"  # too many requests at once; refused before it ran
    AUTH_UNAVAILABLE = "AUTH_UNAVAILABLE"  # the sign-in service (Firebase) cannot be reached


_OUTAGE_MESSAGES: dict[UnavailableReason, tuple[str, str]] = {
    UnavailableReason.DATABASE_UNAVAILABLE: (
        "Tjenesten er midlertidigt utilgængelig. Prøv igen om lidt.",
        "The service is temporarily unavailable. Please try again shortly.",
    ),
    UnavailableReason.TIMEOUT: (
        "Det tog for lang tid at svare. Prøv igen om lidt.",
        "The service took too long to answer. Please try again shortly.",
    ),
    UnavailableReason.OVERLOADED: (
        "Der er travlt lige nu. Prøv igen om lidt.",
        "The service is busy right now. Please try again shortly.",
    ),
    UnavailableReason.AUTH_UNAVAILABLE: (
        "Dit login kan ikke tjekkes lige nu. Prøv igen om lidt.",
        "Your sign-in cannot be checked right now. Please try again shortly.",
    ),
}


class Outage(Unavailable):
    """The service cannot answer now (its database is down or stalled, a deadline passed, too
    many requests at once). The app retries after ``retryAfter`` seconds; nothing is wrong
    with what it sent."""

    def __init__(self, reason: UnavailableReason, retry_after_s: int) -> None:
        message_da, message_en = _OUTAGE_MESSAGES[reason]
        super().__init__(
            message_da,
            message_en,
            extensions={"reason": reason.value, "retryAfter": retry_after_s},
        )
        self.reason = reason
        self.retry_after_s = retry_after_s
