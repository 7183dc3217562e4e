"""Live updates over graphql-transport-ws: the persisted-operation rule on ``subscribe``
messages and the socket's authentication."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.types.unset import UNSET, UnsetType

from .context import authenticate, bearer_token
from .persisted import Refusal

if TYPE_CHECKING:
    from .router import JobuniversGraphQLRouter


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


async def authenticate_socket(context: Any) -> UnsetType | dict[str, object] | None:
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
