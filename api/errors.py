"""How errors reach the client.

* Domain errors keep their message (Danish, or English for `en`) and carry ``extensions.code``.
* GraphQL syntax and validation errors (including the depth, alias and token limits) carry
  GRAPHQL_PARSE_FAILED or GRAPHQL_VALIDATION_FAILED; a variable whose value does not fit its
  type (an unknown enum value, a string for an Int) is BAD_USER_INPUT.
* Outages are answered as outages: a database that is unreachable, stalled or cannot work, or
  a deadline that passed, is UNAVAILABLE with ``extensions.reason`` (``DATABASE_UNAVAILABLE``,
  ``TIMEOUT``, ``OVERLOADED``) and ``extensions.retryAfter`` (seconds), never
  INTERNAL_SERVER_ERROR. They are logged as one warning per result, without a traceback (an
  outage fails many fields at once, and its traceback says nothing new) and without the
  driver's message (which may quote a document).
* Everything else is masked: the client sees a generic message and the request id, the log gets
  the exception type and traceback under the same request id.
* In production no message suggests names ("Did you mean ...?"): graphql-core offers them for
  unknown arguments, types, enum values and input fields (Strawberry's
  ``disable_field_suggestions`` covers fields only); they would map the schema for anyone.

Strawberry calls ``Schema.process_errors`` for every result it produces (HTTP, parse errors,
each subscription event) before the result is serialised, so logging and presentation both
happen there, once per error.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from graphql import GraphQLError, GraphQLSyntaxError
from pymongo.errors import (
    ConnectionFailure,
    OperationFailure,
    PyMongoError,
    ServerSelectionTimeoutError,
)
from starlette.responses import JSONResponse
from strawberry import Schema
from strawberry.types import ExecutionContext

from core.errors import DomainError, ErrorCode, Outage, UnavailableReason

log = logging.getLogger("api.errors")

_INTERNAL = {
    "da": "Der skete en uventet fejl. Prøv igen senere. Fejl-id: {rid}",
    "en": "An unexpected error occurred. Please try again later. Error id: {rid}",
}
_PRESENTED = "_jobunivers_presented"
# graphql-core's did_you_mean(): " Did you mean 'a', 'b', or 'c'?" / "... the enum value 'X'?"
_SUGGESTION = re.compile(r"\s*Did you mean [^?]*\?")
DEFAULT_RETRY_AFTER_S = 2  # when no settings are at hand (a result built outside a request)

# Server error codes that mean the database cannot work now, whatever was asked; any other
# server error stays INTERNAL_SERVER_ERROR (a bug to find, not a reason to retry).
# * 1 InternalError: what the embedded server (SecantusDB) answers to every command but ping
#   once WiredTiger has panicked (seen with a full disk), until it is restarted; the
#   supervisor restarts it. A real MongoDB aborts instead, which reaches us as a connection
#   failure. The price: a server bug that answers 1 reads as an outage too (logged with the
#   code, so it can still be found).
# * 6, 7, 9001, 91, 11600, 11602, 189, 10107, 10058, 13435, 13436, 133, 134: unreachable hosts,
#   shutting down, no primary (PyMongo raises most as NotPrimaryError; a write concern error
#   or a failpoint can carry them as plain codes).
# * 14031 OutOfDiskSpace.
# * 50 MaxTimeMSExpired, 89 NetworkTimeout, 262 ExceededTimeLimit, 64 WriteConcernFailed
#   (replication did not confirm in time): timeouts.
_DOWN_CODES = frozenset(
    {1, 6, 7, 91, 133, 134, 189, 9001, 10058, 10107, 11600, 11602, 13435, 13436, 14031}
)
_TIMEOUT_CODES = frozenset({50, 64, 89, 262})


def outage_reason(exc: BaseException | None) -> UnavailableReason | None:
    """Why ``exc`` is an outage (the database unreachable, stalled or failing, or a deadline
    passed), or None when it is not one. Follows ``raise ... from`` to the cause."""
    seen = 0
    while exc is not None and seen < 5:
        if isinstance(exc, Outage):
            return exc.reason
        if isinstance(exc, ServerSelectionTimeoutError):
            return UnavailableReason.DATABASE_UNAVAILABLE
        if isinstance(exc, PyMongoError) and exc.timeout:
            # NetworkTimeout, ExecutionTimeout, a passed deadline, WaitQueueTimeoutError (no
            # pooled connection free in time: seen when a stalled server holds them all).
            return UnavailableReason.TIMEOUT
        if isinstance(exc, ConnectionFailure):  # AutoReconnect, NotPrimaryError, ...
            return UnavailableReason.DATABASE_UNAVAILABLE
        if isinstance(exc, OperationFailure):
            if exc.code in _TIMEOUT_CODES:
                return UnavailableReason.TIMEOUT
            if exc.code in _DOWN_CODES:
                return UnavailableReason.DATABASE_UNAVAILABLE
            return None
        if isinstance(exc, TimeoutError):  # an asyncio deadline inside a resolver
            return UnavailableReason.TIMEOUT
        if isinstance(exc, DomainError):
            return None
        exc = exc.__cause__
        seen += 1
    return None


def _classify(error: GraphQLError) -> str:
    original = error.original_error
    if isinstance(original, DomainError):
        return "domain"
    if original is not None and outage_reason(original) is not None:
        return "outage"
    if isinstance(error, GraphQLSyntaxError) or isinstance(original, GraphQLSyntaxError):
        return "syntax"
    if isinstance(original, GraphQLError) or (
        original is None and error.message.startswith("Variable '$")
    ):
        return "input"  # a variable's value does not fit its type (an unknown enum value ...)
    if original is None:
        return "validation"
    return "internal"


def _context_attr(execution_context: ExecutionContext | None, name: str, default: Any) -> Any:
    ctx = execution_context.context if execution_context else None
    return getattr(ctx, name, default) if ctx is not None else default


def _server_code(exc: BaseException | None) -> int | None:
    return exc.code if isinstance(exc, OperationFailure) else None


def log_outage(errors: list[BaseException | None], request_id: str) -> None:
    """One warning for the outage errors of one result: what failed, not the driver's message
    (it may quote a filter or document) and no traceback."""
    first = errors[0]
    log.warning(
        "service unavailable",
        extra={
            "reason": str(outage_reason(first)),
            "error": type(first).__name__,
            "server_code": _server_code(first),
            "errors": len(errors),
            "request_id": request_id,
        },
    )


def _log(error: GraphQLError, kind: str, request_id: str) -> None:
    if kind == "outage":
        pass  # logged once per result by PresentingSchema.process_errors
    elif kind == "internal":
        err = error.original_error
        log.error(
            "unexpected error in resolver",
            exc_info=(type(err), err, err.__traceback__) if err else None,
            extra={"path": error.path, "request_id": request_id},
        )
    elif kind == "domain":
        code = error.original_error.code  # type: ignore[union-attr]
        log.info("domain error", extra={"code": str(code), "path": error.path})
    else:
        log.info("rejected operation", extra={"kind": kind})


def without_suggestions(text: str) -> str:
    return _SUGGESTION.sub("", text)


def present_error(
    error: GraphQLError,
    locale: str,
    request_id: str,
    *,
    retry_after_s: int = DEFAULT_RETRY_AFTER_S,
    suggestions: bool = True,
) -> None:
    """Rewrite ``error`` in place into what the client may see (``suggestions=False``: no
    "Did you mean" in it, as in production)."""
    kind = _classify(error)
    if not suggestions and kind in ("validation", "input"):
        error.message = without_suggestions(error.message)
    extensions = dict(error.extensions or {})
    if kind == "outage":
        reason = outage_reason(error.original_error)
        assert reason is not None
        error.original_error = Outage(reason, retry_after_s)
        kind = "domain"
    if kind == "domain":
        domain: DomainError = error.original_error  # type: ignore[assignment]
        error.message = domain.message(locale)
        extensions.update(domain.extra_extensions)
        extensions["code"] = domain.code.value
        if domain.code is ErrorCode.UNAVAILABLE:
            # Every UNAVAILABLE says when to try again (also "still starting").
            extensions.setdefault("retryAfter", retry_after_s)
            extensions.setdefault("requestId", request_id)
    elif kind == "syntax":
        extensions["code"] = "GRAPHQL_PARSE_FAILED"
    elif kind == "input":
        # graphql-core words these in English; the app shows the Danish (or English) sentence
        # and may keep the technical detail for its logs.
        extensions["detail"] = error.message
        error.message = (
            "Input has a value of the wrong kind (for example an unknown choice)."
            if locale == "en"
            else "Input indeholder en ugyldig værdi (for eksempel et ukendt valg)."
        )
        extensions["code"] = ErrorCode.BAD_USER_INPUT.value
    elif kind == "validation":
        extensions["code"] = ErrorCode.GRAPHQL_VALIDATION_FAILED.value
    else:
        error.message = _INTERNAL.get(locale, _INTERNAL["da"]).format(rid=request_id)
        extensions = {"code": ErrorCode.INTERNAL_SERVER_ERROR.value, "requestId": request_id}
    error.extensions = extensions
    error.args = (error.message,)


class PresentingSchema(Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        locale = _context_attr(execution_context, "locale", "da")
        rid = _context_attr(execution_context, "request_id", "-")
        settings = _context_attr(execution_context, "settings", None)
        retry_after_s = settings.retry_after_s if settings is not None else DEFAULT_RETRY_AFTER_S
        suggestions = not (settings is not None and settings.is_production)
        outages: list[BaseException | None] = []
        for error in errors:
            if getattr(error, _PRESENTED, False):
                continue
            kind = _classify(error)
            if kind == "outage":
                outages.append(error.original_error)
            _log(error, kind, rid)
            present_error(error, locale, rid, retry_after_s=retry_after_s, suggestions=suggestions)
            setattr(error, _PRESENTED, True)
        if outages:
            log_outage(outages, rid)


def outage_error(
    reason: UnavailableReason, locale: str, request_id: str, retry_after_s: int
) -> GraphQLError:
    """A presented UNAVAILABLE error for a result made outside execution (a deadline that
    passed, a database failing during authentication)."""
    error = GraphQLError("unavailable", original_error=Outage(reason, retry_after_s))
    present_error(error, locale, request_id, retry_after_s=retry_after_s)
    setattr(error, _PRESENTED, True)
    return error


def internal_error(exc: BaseException, locale: str, request_id: str) -> GraphQLError:
    """A presented INTERNAL_SERVER_ERROR for an exception that escaped execution (outside any
    resolver), logged with its traceback like a resolver's."""
    log.error(
        "unexpected error outside the resolvers",
        exc_info=(type(exc), exc, exc.__traceback__),
        extra={"request_id": request_id},
    )
    error = GraphQLError("internal", original_error=RuntimeError(type(exc).__name__))
    present_error(error, locale, request_id)
    setattr(error, _PRESENTED, True)
    return error


def has_unavailable(response_data: object) -> bool:
    """Whether a GraphQL HTTP response body (one result or a batch) carries UNAVAILABLE."""
    results = response_data if isinstance(response_data, list) else [response_data]
    return any(
        (e.get("extensions") or {}).get("code") == ErrorCode.UNAVAILABLE.value
        for r in results
        if isinstance(r, dict)
        for e in r.get("errors") or []
        if isinstance(e, dict)
    )


def unavailable_response(
    reason: UnavailableReason, locale: str, request_id: str, retry_after_s: int
) -> JSONResponse:
    """HTTP 503 with a GraphQL-shaped body and Retry-After: the request was refused before it
    ran (too many in flight, the database failing while signing in), so any operation,
    mutations included, may be sent again as it is."""
    error = outage_error(reason, locale, request_id, retry_after_s)
    return JSONResponse(
        {"errors": [error.formatted]},  # no "data": nothing was executed
        status_code=503,
        headers={"Retry-After": str(retry_after_s)},
    )
