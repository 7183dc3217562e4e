"""The GraphQL endpoint: persisted operations (api/persisted.py) on every transport (HTTP POST,
HTTP GET and graphql-transport-ws ``subscribe`` messages, one rule for all), authentication on
websockets, and a deadline for every HTTP operation.

Whatever arrives is answered with a GraphQL-shaped JSON body carrying a stable code and the
request id, never plain text and never HTTP 500: a body that is not UTF-8 JSON holding one
object, or whose variables are too deep or too long (api/limits.py), answers 400 BAD_USER_INPUT;
Strawberry's own refusals (no query, a wrong method, a mutation over GET) keep their status
with a JSON body; and anything escaping execution (a CancelledError from a task graphql-core
cancelled, an exception outside the resolvers) is answered as INTERNAL_SERVER_ERROR with the
request id and logged with its traceback.

Deadlines: an HTTP operation ends by its request's deadline (``request_timeout_s`` after it
arrived; api/app.py's RequestGuard starts it), answering UNAVAILABLE with reason TIMEOUT past
it. Its database calls end by then too, each one also within the client's ``timeoutMS``, so a
stalled database answers within about ``database_operation_timeout_ms``. Subscriptions are
long-lived and have no deadline; each database read they make is bounded by ``timeoutMS``."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pymongo
from cross_web import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from strawberry.exceptions import MissingQueryError
from strawberry.fastapi import GraphQLRouter
from strawberry.http import GraphQLRequestData
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType
from strawberry.types.unset import UNSET, UnsetType

from core.errors import UnavailableReason
from core.settings import Settings

from .context import locale_from_header
from .errors import has_unavailable, internal_error, outage_error
from .limits import (
    RequestRefused,
    check_request_object,
    decode_body,
    rate_limited_response,
    refusal_response,
    strawberry_refusal,
)
from .persisted import PersistedQueries, Refusal
from .sockets import PersistedTransportWSHandler, authenticate_socket

try:  # PyMongo's client-side operation timeout state (see database_deadline)
    from pymongo import _csot
except ImportError:  # pragma: no cover - a PyMongo without it falls back to pymongo.timeout
    _csot = None  # type: ignore[assignment]

log = logging.getLogger("api.errors")
DEADLINE_STATE = "deadline"  # scope["state"] key: the request's deadline, time.monotonic()

# GraphiQL (local mode) is served from the project, never from a CDN, so it works offline:
# the page is api/static/graphiql.html, its scripts and styles the pinned copies in
# api/static/graphiql/ (api/app.py mounts them at GRAPHIQL_ASSETS_PATH).
STATIC_DIR = Path(__file__).with_name("static")
GRAPHIQL_ASSETS_DIR = STATIC_DIR / "graphiql"
GRAPHIQL_ASSETS_PATH = "/graphiql-assets"


@cache
def _graphiql_page() -> str:
    return (STATIC_DIR / "graphiql.html").read_text(encoding="utf-8")


def graphiql_html(root_path: str = "") -> str:
    return _graphiql_page().replace("{{ASSETS}}", root_path.rstrip("/") + GRAPHIQL_ASSETS_PATH)


def request_deadline(scope: Any, settings: Settings) -> float:
    """The request's deadline (time.monotonic()): set when it arrived, else from now."""
    deadline = (scope.get("state") or {}).get(DEADLINE_STATE)
    return deadline if deadline is not None else time.monotonic() + settings.request_timeout_s


@contextlib.contextmanager
def database_deadline(deadline: float) -> Iterator[None]:
    """Every database call made inside ends by ``deadline`` (time.monotonic()), each one still
    within the client's ``timeoutMS``.

    ``pymongo.timeout(s)`` cannot say both: inside it the client's timeoutMS no longer applies,
    so one stalled call would wait out the whole request deadline. PyMongo applies timeoutMS to
    each call by opening a deadline capped by the surrounding one; this sets only the
    surrounding one (its CSOT deadline variable), without a block timeout of its own."""
    if _csot is None or not hasattr(_csot, "DEADLINE"):  # pragma: no cover
        with pymongo.timeout(max(deadline - time.monotonic(), 0.001)):
            yield
        return
    token = _csot.DEADLINE.set(min(_csot.DEADLINE.get(), deadline))
    try:
        yield
    finally:
        _csot.DEADLINE.reset(token)


class JobuniversGraphQLRouter(GraphQLRouter):
    graphql_transport_ws_handler_class = PersistedTransportWSHandler

    def __init__(self, *args: Any, settings: Settings, persisted: PersistedQueries, **kw: Any):
        super().__init__(*args, **kw)
        self.settings = settings
        self.persisted = persisted

    def decode_json(self, data: str | bytes) -> object:
        """JSON within the request limits (api/limits.py); the body (bytes) must be one object
        with bounded variables, GET's parameters (str) are bounded when they run."""
        value = decode_body(data, self.settings)
        return check_request_object(value, self.settings) if isinstance(data, bytes) else value

    async def run(self, request: Any, context: Any = UNSET, root_value: Any = UNSET) -> Any:
        if isinstance(request, Request) and context is not UNSET:
            limits = getattr(self.schema, "document_limits", None)
            limited = limits and rate_limited_response(limits, context, request)
            if limited is not None:
                return limited
        try:
            return await super().run(request, context=context, root_value=root_value)
        except RequestRefused as refused:
            return refusal_response(refused, request)
        except HTTPException as e:
            # Strawberry's refusals (no query, GET for a mutation, a wrong method ...): the
            # status stays, the body is GraphQL-shaped like every other answer.
            return refusal_response(strawberry_refusal(e.status_code, e.reason), request)

    async def execute_single(  # type: ignore[override]
        self, request: Any, request_adapter: Any, sub_response: Any, context: Any,
        root_value: Any, request_data: GraphQLRequestData,
    ) -> ExecutionResult:  # fmt: skip
        """Strawberry's, but a plain HTTP request runs queries and mutations only: a
        subscription is for the websocket (Strawberry ran it as a query, whose async generator
        then failed as INTERNAL_SERVER_ERROR). Refused with HTTP 400 (api/limits.py)."""
        method = request_adapter.method
        allowed = OperationType.from_http(method) - {OperationType.SUBSCRIPTION}
        if not self.allow_queries_via_get and method == "GET":
            allowed -= {OperationType.QUERY}
        try:
            return await self.schema.execute(
                request_data.query,
                root_value=root_value,
                variable_values=request_data.variables,
                context_value=context,
                operation_name=request_data.operation_name,
                allowed_operation_types=allowed,
                operation_extensions=request_data.extensions,
            )
        except CannotGetOperationTypeError as e:
            raise HTTPException(400, e.as_http_error_reason()) from e
        except InvalidOperationTypeError as e:
            raise HTTPException(400, e.as_http_error_reason(method)) from e
        except MissingQueryError as e:
            raise HTTPException(400, "No GraphQL query found in the request") from e

    def resolve_operation(self, query: str | None, extensions: object) -> str | Refusal | None:
        return self.persisted.resolve(
            query, extensions, persisted_only=self.settings.persisted_queries_only
        )

    def should_render_graphql_ide(self, request: Any) -> bool:
        # A GET carrying only a persisted operation's hash is an operation, not a browser.
        return "extensions" not in request.query_params and super().should_render_graphql_ide(
            request
        )

    def _refused(self, data: GraphQLRequestData, locale: str | None) -> ExecutionResult | None:
        resolved = self.resolve_operation(data.query, data.extensions)
        if isinstance(resolved, Refusal):
            return ExecutionResult(data=None, errors=[resolved.error(locale)])
        data.query = resolved
        return None

    async def execute_operation(  # type: ignore[override]
        self, request: Any, request_adapter: Any, request_data: Any, context: Any, **kw: Any
    ) -> Any:
        locale = getattr(context, "locale", None)
        if isinstance(request_data, GraphQLRequestData):
            refused = self._refused(request_data, locale)
            if refused is not None:
                return refused
        elif isinstance(request_data, list):  # batching is off; were it on, the same rule
            refusals = [self._refused(item, locale) for item in request_data]
            first = next((r for r in refusals if r is not None), None)
            if first is not None:  # the batch is refused whole
                return [r or first for r in refusals]
        if isinstance(request_data, GraphQLRequestData) and request_data.protocol != "http":
            # Streamed over HTTP (multipart subscriptions): long-lived, like the websocket.
            return await super().execute_operation(
                request=request,
                request_adapter=request_adapter,
                request_data=request_data,
                context=context,
                **kw,
            )
        deadline = request_deadline(request.scope, self.settings)
        loop = asyncio.get_running_loop()
        try:
            with database_deadline(deadline):
                async with asyncio.timeout_at(loop.time() + deadline - time.monotonic()):
                    return await self._execute_answering(
                        request, request_adapter, request_data, context, **kw
                    )
        except TimeoutError:
            rid = getattr(context, "request_id", "-")
            log.warning("request deadline passed", extra={"reason": "TIMEOUT",
                                                          "request_id": rid})  # fmt: skip
            error = outage_error(UnavailableReason.TIMEOUT, locale or "da", rid,
                                 self.settings.retry_after_s)  # fmt: skip
            result = ExecutionResult(data=None, errors=[error])
            return [result] * len(request_data) if isinstance(request_data, list) else result

    async def _execute_answering(
        self, request: Any, request_adapter: Any, request_data: Any, context: Any, **kw: Any
    ) -> Any:
        """Strawberry's execution; what escapes it becomes INTERNAL_SERVER_ERROR (logged with
        its traceback). A CancelledError is re-raised only when this request is the one being
        cancelled (its deadline, the client gone): one that escapes from a task graphql-core
        cancelled is a failure of the operation, not of the request."""
        try:
            return await super().execute_operation(
                request=request,
                request_adapter=request_adapter,
                request_data=request_data,
                context=context,
                **kw,
            )
        except (HTTPException, RequestRefused):
            raise
        except (Exception, asyncio.CancelledError) as e:
            task = asyncio.current_task()
            if isinstance(e, asyncio.CancelledError) and task is not None and task.cancelling():
                raise
            rid = getattr(context, "request_id", "-")
            locale = getattr(context, "locale", None) or locale_from_header(
                request.headers.get("accept-language")
            )
            error = internal_error(e, locale, rid)
            result = ExecutionResult(data=None, errors=[error])
            return [result] * len(request_data) if isinstance(request_data, list) else result

    def create_response(self, response_data: Any, sub_response: Response) -> Response:
        """Strawberry's response, with Retry-After when an error says UNAVAILABLE."""
        response = super().create_response(response_data, sub_response)
        if has_unavailable(response_data):
            response.headers["Retry-After"] = str(self.settings.retry_after_s)
        return response

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:
        """Strawberry's GraphiQL page with local assets instead of its CDN links."""
        return HTMLResponse(graphiql_html(request.scope.get("root_path", "")))

    async def on_ws_connect(self, context: Any) -> UnsetType | dict[str, object] | None:
        """Authenticate the socket (api/sockets.py): without a valid token it is closed with
        4403 before any subscription starts."""
        return await authenticate_socket(context)
