"""The GraphQL endpoint: persisted operations (api/persisted.py) on every transport (HTTP POST,
HTTP GET and graphql-transport-ws ``subscribe`` messages, one rule for all), authentication on
websockets."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse
from strawberry.exceptions import ConnectionRejectionError
from strawberry.fastapi import GraphQLRouter
from strawberry.http import GraphQLRequestData
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET, UnsetType

from core.settings import Settings

from .context import authenticate, bearer_token
from .persisted import PersistedQueries, Refusal

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


class PersistedTransportWSHandler(BaseGraphQLTransportWSHandler):
    """graphql-transport-ws with the HTTP endpoint's rule for persisted operations: a
    ``subscribe`` payload may carry only ``extensions.persistedQuery``, and in persisted-only
    mode its text must be a registered operation. A refusal answers the body HTTP answers, as
    ``next`` then ``complete`` for that id (the socket stays open): Apollo's clients look for
    ``PersistedQueryNotFound`` among a result's errors to resend with the text."""

    async def handle_subscribe(self, message: Any) -> None:
        payload = message.get("payload")
        if (
            self.connection_acknowledged
            and isinstance(payload, dict)
            and message.get("id") not in self.operations
        ):
            view: JobuniversGraphQLRouter = self.view  # type: ignore[assignment]
            resolved = view.resolve_operation(payload.get("query"), payload.get("extensions"))
            if isinstance(resolved, Refusal):
                error = resolved.error(getattr(self.context, "locale", None))
                result = {"data": None, "errors": [error.formatted]}
                await self.send_message({"id": message["id"], "type": "next", "payload": result})
                await self.send_message({"id": message["id"], "type": "complete"})
                return
            if resolved is not None:
                message = {**message, "payload": {**payload, "query": resolved}}
        await super().handle_subscribe(message)


class JobuniversGraphQLRouter(GraphQLRouter):
    graphql_transport_ws_handler_class = PersistedTransportWSHandler

    def __init__(self, *args: Any, settings: Settings, persisted: PersistedQueries, **kw: Any):
        super().__init__(*args, **kw)
        self.settings = settings
        self.persisted = persisted

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
        return await super().execute_operation(
            request=request,
            request_adapter=request_adapter,
            request_data=request_data,
            context=context,
            **kw,
        )

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:
        """Strawberry's GraphiQL page with local assets instead of its CDN links."""
        return HTMLResponse(graphiql_html(request.scope.get("root_path", "")))

    async def on_ws_connect(self, context: Any) -> UnsetType | dict[str, object] | None:
        """Authenticate the socket from the connection_init payload ``{"authorization": ...}``.

        A socket without a valid token is closed with 4403 before any subscription starts.
        """
        params = context.connection_params if isinstance(context.connection_params, dict) else {}
        raw = params.get("authorization") or params.get("Authorization")
        token = bearer_token(raw) if isinstance(raw, str) else None
        if token is None and isinstance(raw, str) and " " not in raw.strip():
            token = raw.strip() or None
        result = await authenticate(context.verifier, token)
        if result.actor is None:
            raise ConnectionRejectionError()
        context.auth = result
        return UNSET
