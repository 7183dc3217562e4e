"""How errors reach the client.

* Domain errors keep their message (Danish, or English for `en`) and carry ``extensions.code``.
* GraphQL syntax and validation errors (including the depth, alias and token limits) carry
  GRAPHQL_PARSE_FAILED or GRAPHQL_VALIDATION_FAILED; a variable whose value does not fit its
  type (an unknown enum value, a string for an Int) is BAD_USER_INPUT.
* Everything else is masked: the client sees a generic message and the request id, the log gets
  the exception type and traceback under the same request id.

Strawberry calls ``Schema.process_errors`` for every result it produces (HTTP, parse errors,
each subscription event) before the result is serialised, so logging and presentation both
happen there, once per error.
"""

from __future__ import annotations

import logging
from typing import Any

from graphql import GraphQLError, GraphQLSyntaxError
from strawberry import Schema
from strawberry.types import ExecutionContext

from core.errors import DomainError, ErrorCode

log = logging.getLogger("api.errors")

_INTERNAL = {
    "da": "Der skete en uventet fejl. Prøv igen senere. Fejl-id: {rid}",
    "en": "An unexpected error occurred. Please try again later. Error id: {rid}",
}
_PRESENTED = "_jobunivers_presented"


def _classify(error: GraphQLError) -> str:
    original = error.original_error
    if isinstance(original, DomainError):
        return "domain"
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


def _log(error: GraphQLError, kind: str, request_id: str) -> None:
    if kind == "internal":
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


def present_error(error: GraphQLError, locale: str, request_id: str) -> None:
    """Rewrite ``error`` in place into what the client may see."""
    kind = _classify(error)
    extensions = dict(error.extensions or {})
    if kind == "domain":
        domain: DomainError = error.original_error  # type: ignore[assignment]
        error.message = domain.message(locale)
        extensions.update(domain.extra_extensions)
        extensions["code"] = domain.code.value
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
        for error in errors:
            if getattr(error, _PRESENTED, False):
                continue
            _log(error, _classify(error), rid)
            present_error(error, locale, rid)
            setattr(error, _PRESENTED, True)
