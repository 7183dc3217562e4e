"""How errors reach the client.

* Domain errors keep their message (Danish, or English for `en`) and carry ``extensions.code``.
* GraphQL syntax and validation errors (including the depth, alias and token limits) carry
  GRAPHQL_PARSE_FAILED or GRAPHQL_VALIDATION_FAILED.
* Everything else is masked: the client sees a generic message and the request id, the log gets
  the exception type and traceback under the same request id.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from graphql import GraphQLError, GraphQLSyntaxError
from strawberry import Schema
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionContext

from core.errors import DomainError, ErrorCode

log = logging.getLogger("api.errors")

_INTERNAL = {
    "da": "Der skete en uventet fejl. Prøv igen senere. Fejl-id: {rid}",
    "en": "An unexpected error occurred. Please try again later. Error id: {rid}",
}


def _classify(error: GraphQLError) -> str:
    original = error.original_error
    if isinstance(original, DomainError):
        return "domain"
    if isinstance(error, GraphQLSyntaxError) or isinstance(original, GraphQLSyntaxError):
        return "syntax"
    if original is None:
        return "validation"
    return "internal"


def _context_attr(execution_context: ExecutionContext | None, name: str, default: Any) -> Any:
    ctx = execution_context.context if execution_context else None
    return getattr(ctx, name, default) if ctx is not None else default


class LoggingSchema(Schema):
    """Logs errors without their user-facing text: only codes, types and request ids."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        rid = _context_attr(execution_context, "request_id", None)
        for error in errors:
            kind = _classify(error)
            if kind == "internal":
                err = error.original_error
                log.error(
                    "unexpected error in resolver",
                    exc_info=(type(err), err, err.__traceback__) if err else None,
                    extra={"path": error.path, "request_id": rid},
                )
            elif kind == "domain":
                code = error.original_error.code  # type: ignore[union-attr]
                log.info("domain error", extra={"code": str(code), "path": error.path})
            else:
                log.info("rejected operation", extra={"kind": kind})


def present_error(error: GraphQLError, locale: str, request_id: str) -> GraphQLError:
    kind = _classify(error)
    if kind == "domain":
        domain: DomainError = error.original_error  # type: ignore[assignment]
        return GraphQLError(
            domain.message(locale),
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            extensions={
                **(error.extensions or {}),
                **domain.extra_extensions,
                "code": domain.code.value,
            },
        )
    if kind in ("syntax", "validation"):
        code = (
            ErrorCode.GRAPHQL_VALIDATION_FAILED if kind == "validation" else "GRAPHQL_PARSE_FAILED"
        )
        error.extensions = {**(error.extensions or {}), "code": str(code)}
        return error
    return GraphQLError(
        _INTERNAL.get(locale, _INTERNAL["da"]).format(rid=request_id),
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions={"code": ErrorCode.INTERNAL_SERVER_ERROR.value, "requestId": request_id},
    )


class ErrorPresenter(SchemaExtension):
    def _present(self, result: Any) -> None:
        errors = getattr(result, "errors", None)
        if not errors:
            return
        locale = _context_attr(self.execution_context, "locale", "da")
        rid = _context_attr(self.execution_context, "request_id", "-")
        result.errors = [present_error(e, locale, rid) for e in errors]

    def on_operation(self) -> Iterator[None]:
        yield
        self._present(self.execution_context.result)
