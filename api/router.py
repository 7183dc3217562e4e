"""The GraphQL endpoint: persisted operations over HTTP, authentication on websockets."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError
from strawberry.exceptions import ConnectionRejectionError
from strawberry.fastapi import GraphQLRouter
from strawberry.http import GraphQLRequestData
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET, UnsetType

from core.errors import ErrorCode
from core.settings import Settings

from .context import authenticate, bearer_token
from .persisted import PersistedQueries, sha256_hex

_MESSAGES = {
    ErrorCode.PERSISTED_QUERY_NOT_FOUND: (
        "Operationen er ukendt for serveren. Opdater appen.",
        "The server does not know this operation. Please update the app.",
    ),
    ErrorCode.PERSISTED_QUERY_REQUIRED: (
        "Serveren tager kun imod kendte operationer.",
        "The server only accepts known operations.",
    ),
    ErrorCode.BAD_USER_INPUT: (
        "Operationens sha256Hash passer ikke med dens tekst.",
        "The operation's sha256Hash does not match its text.",
    ),
}


def _error_result(code: ErrorCode, locale: str) -> ExecutionResult:
    da, en = _MESSAGES[code]
    return ExecutionResult(
        data=None,
        errors=[GraphQLError(en if locale == "en" else da, extensions={"code": code.value})],
    )


class JobuniversGraphQLRouter(GraphQLRouter):
    def __init__(self, *args: Any, settings: Settings, persisted: PersistedQueries, **kw: Any):
        super().__init__(*args, **kw)
        self.settings = settings
        self.persisted = persisted

    def _resolve_persisted(self, data: GraphQLRequestData) -> ErrorCode | None:
        """Fill in the document for hash-only requests; returns an error code if refused."""
        pq = (data.extensions or {}).get("persistedQuery")
        sha = pq.get("sha256Hash") if isinstance(pq, dict) else None
        if isinstance(sha, str):
            if data.query is None:
                document = self.persisted.get(sha)
                if document is None:
                    return ErrorCode.PERSISTED_QUERY_NOT_FOUND
                data.query = document
                return None
            if sha256_hex(data.query) != sha:
                return ErrorCode.BAD_USER_INPUT
        if (
            self.settings.persisted_queries_only
            and data.query is not None
            and not self.persisted.knows(data.query)
        ):
            return ErrorCode.PERSISTED_QUERY_REQUIRED
        return None

    async def execute_operation(  # type: ignore[override]
        self, request: Any, request_adapter: Any, request_data: Any, context: Any, **kw: Any
    ) -> Any:
        if isinstance(request_data, GraphQLRequestData):
            refused = self._resolve_persisted(request_data)
            if refused is not None:
                return _error_result(refused, getattr(context, "locale", "da"))
        return await super().execute_operation(
            request=request,
            request_adapter=request_adapter,
            request_data=request_data,
            context=context,
            **kw,
        )

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
