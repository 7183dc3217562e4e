"""Live updates over graphql-transport-ws: the socket's sign-in and its session, the
persisted-operation rule on ``subscribe`` messages, and the caps.

A socket's session lives no longer than its token:

* ``connection_init`` carries the token (``{"authorization": "Bearer <token>"}``). Without a
  valid one the socket closes with 4403 (close reason: the refusal's reason, such as
  ``TOKEN_EXPIRED``); when the sign-in service cannot be reached, with 1013 (try again later,
  reason ``AUTH_UNAVAILABLE``).
* At the token's ``exp`` the socket closes with 4403, reason ``TOKEN_EXPIRED``: every
  subscription on it stops, and a ``subscribe`` that arrives after that instant starts
  nothing. The app reconnects with a fresh token.
* Every ``subscription_auth_recheck_s`` the socket checks its token again (the erased-account
  set; for Firebase also revocation, a disabled or deleted user: ``check_revoked``, in a worker
  thread, within ``request_timeout_s``). A refusal closes it with 4403 and the refusal's
  reason (``ACCOUNT_DELETED``, ``TOKEN_REVOKED``, ``USER_DISABLED``); when the check cannot be
  made (Firebase unreachable) the socket stays open and checks again at the next interval.
* At most ``max_subscriptions_per_connection`` operations run at once on a socket; the next
  ``subscribe`` answers an ``error`` message for its id (RATE_LIMITED, reason
  ``TOO_MANY_SUBSCRIPTIONS``) and the socket stays open.
* At most ``max_connections_per_user`` acknowledged sockets per account in one process; the
  next one is closed with 4429 (reason ``TOO_MANY_CONNECTIONS``) after its ``connection_init``,
  without an ack.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import random
import time
from typing import TYPE_CHECKING, Any

from graphql import GraphQLError
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.types.unset import UNSET, UnsetType

from core.errors import Outage, RateLimited, Unavailable

from .context import authenticate, bearer_token
from .errors import present_error
from .persisted import Refusal

if TYPE_CHECKING:
    from .auth.actor import Actor

log = logging.getLogger("api.sockets")

# Close codes (graphql-transport-ws uses 44xx; 1013 is the WebSocket standard's "try again").
CLOSE_FORBIDDEN = 4403  # no valid token, the token expired, or the account was revoked
CLOSE_TOO_MANY_CONNECTIONS = 4429
CLOSE_TRY_AGAIN_LATER = 1013
RECHECK_JITTER = 0.1  # rechecks come up to 10 % early, so sockets opened together spread out
MAX_CONCURRENT_RECHECKS = 8  # per process: Firebase lookups in worker threads at once


class SocketRefused(ConnectionRejectionError):
    """``connection_init`` refused with this close code and reason."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__()
        self.code = code
        self.reason = reason


def _refusal_reason(error: Exception | None) -> str:
    extra = getattr(error, "extra_extensions", None) or {}
    reason = extra.get("reason")
    return reason if isinstance(reason, str) else "UNAUTHENTICATED"


class SocketSessions:
    """The acknowledged sockets of one app (one process), per account."""

    def __init__(self) -> None:
        self._open: dict[str, int] = {}
        self.rechecks = asyncio.Semaphore(MAX_CONCURRENT_RECHECKS)

    def add(self, account_id: str, limit: int) -> bool:
        if self._open.get(account_id, 0) >= limit:
            return False
        self._open[account_id] = self._open.get(account_id, 0) + 1
        return True

    def remove(self, account_id: str) -> None:
        left = self._open.get(account_id, 0) - 1
        if left > 0:
            self._open[account_id] = left
        else:
            self._open.pop(account_id, None)

    def count(self, account_id: str) -> int:
        return self._open.get(account_id, 0)


_SESSIONS_ATTR = "_jobunivers_socket_sessions"


def socket_sessions(view: Any) -> SocketSessions:
    """The sessions of the app this GraphQL view (one per app) belongs to, kept on the view."""
    sessions = getattr(view, _SESSIONS_ATTR, None)
    if sessions is None:
        sessions = SocketSessions()
        setattr(view, _SESSIONS_ATTR, sessions)
    return sessions


class PersistedTransportWSHandler(BaseGraphQLTransportWSHandler):
    """graphql-transport-ws with the socket's session rules (see the module text) and the
    HTTP endpoint's rule for persisted operations: a ``subscribe`` payload may carry only
    ``extensions.persistedQuery``, and in persisted-only mode its text must be a registered
    operation. A refusal answers the body HTTP answers, as ``next`` then ``complete`` for that
    id (the socket stays open): Apollo's clients look for ``PersistedQueryNotFound`` among a
    result's errors to resend with the text."""

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self._account: str | None = None  # counted in the app's sessions while set
        self._watch: asyncio.Task | None = None
        self._closing = False

    # --- the session ------------------------------------------------------------------------
    @property
    def _actor(self) -> Actor | None:
        auth = getattr(self.context, "auth", None)
        return auth.actor if auth is not None else None

    def _expired(self) -> bool:
        actor = self._actor
        return (
            actor is not None
            and actor.expires_at is not None
            and time.time() >= actor.expires_at.timestamp()
        )

    async def handle_connection_init(self, message: Any) -> None:
        """Strawberry's (0.341.2), with the close codes above and the per-account cap."""
        if self.connection_timed_out:
            return  # pragma: no cover - Strawberry's own race
        if self.connection_init_timeout_task:
            self.connection_init_timeout_task.cancel()
        payload = message.get("payload")
        if payload is None:
            payload = {}
        if not isinstance(payload, dict):
            await self.websocket.close(code=4400, reason="Invalid connection init payload")
            return
        if self.connection_init_received:
            await self.websocket.close(code=4429, reason="Too many initialisation requests")
            return
        self.connection_init_received = True
        self.context.connection_params = payload
        try:
            ack_payload = await self.view.on_ws_connect(self.context)
        except SocketRefused as refused:
            await self.websocket.close(code=refused.code, reason=refused.reason)
            return
        except ConnectionRejectionError:
            await self.websocket.close(code=CLOSE_FORBIDDEN, reason="UNAUTHENTICATED")
            return
        actor = self._actor
        if actor is None:  # pragma: no cover - on_ws_connect refuses without one
            await self.websocket.close(code=CLOSE_FORBIDDEN, reason="UNAUTHENTICATED")
            return
        settings = self.context.settings
        sessions = socket_sessions(self.view)
        if not sessions.add(actor.id, settings.max_connections_per_user):
            log.info("websocket refused: too many connections for one account",
                     extra={"request_id": self.context.request_id,
                            "limit": settings.max_connections_per_user})  # fmt: skip
            await self.websocket.close(code=CLOSE_TOO_MANY_CONNECTIONS,
                                       reason="TOO_MANY_CONNECTIONS")  # fmt: skip
            return
        self._account = actor.id
        if isinstance(ack_payload, UnsetType):
            await self.send_message({"type": "connection_ack"})
        else:
            await self.send_message({"type": "connection_ack", "payload": ack_payload})
        self.connection_acknowledged = True
        self._watch = asyncio.create_task(self._watch_session(), name="ws-session")
        self._watch.add_done_callback(self._task_done)

    async def _watch_session(self) -> None:
        """Close the socket at the token's expiry, or when a recheck refuses the account."""
        actor = self._actor
        assert actor is not None
        settings = self.context.settings
        expires = actor.expires_at.timestamp() if actor.expires_at is not None else math.inf
        interval = settings.subscription_auth_recheck_s

        def next_recheck() -> float:
            if interval <= 0:
                return math.inf
            return time.time() + interval * (1 - RECHECK_JITTER * random.random())

        recheck_at = next_recheck()
        try:
            while not self._closing:
                now = time.time()
                if now >= expires:
                    await self._close(CLOSE_FORBIDDEN, "TOKEN_EXPIRED")
                    return
                if now >= recheck_at:
                    reason = await self._recheck(actor)
                    if reason is not None:
                        await self._close(CLOSE_FORBIDDEN, reason)
                        return
                    recheck_at = next_recheck()
                    continue
                wake = min(expires, recheck_at)
                if wake == math.inf:
                    return
                await asyncio.sleep(wake - now)
        except asyncio.CancelledError:
            raise
        except Exception:  # a bug here must not leave a socket open past its token
            log.exception("websocket session watch failed; closing the socket",
                          extra={"request_id": self.context.request_id})  # fmt: skip
            await self._close(CLOSE_FORBIDDEN, "UNAUTHENTICATED")

    async def _recheck(self, actor: Actor) -> str | None:
        """The reason to close the socket, or None to keep it (the account is fine, or the
        check could not be made now: it is made again at the next interval)."""
        ctx = self.context
        sessions = socket_sessions(self.view)
        try:
            async with asyncio.timeout(ctx.settings.request_timeout_s), sessions.rechecks:
                result = await authenticate(ctx.verifier, self._token)
        except (Outage, TimeoutError) as e:
            log.warning("websocket sign-in recheck could not be made; kept open",
                        extra={"request_id": ctx.request_id, "error": type(e).__name__})  # fmt: skip
            return None
        if result.actor is None:
            if isinstance(result.error, Unavailable):  # erased accounts still loading
                return None
            reason = _refusal_reason(result.error)
            log.info("websocket closed: sign-in no longer valid",
                     extra={"request_id": ctx.request_id, "reason": reason})  # fmt: skip
            return reason
        return None if result.actor.id == actor.id else "TOKEN_INVALID"

    @property
    def _token(self) -> str | None:
        return getattr(self.context, "socket_token", None)

    async def _close(self, code: int, reason: str) -> None:
        """Stop every operation, then close: nothing is sent after the close."""
        if self._closing:
            return
        self._closing = True
        for operation_id in list(self.operations):
            await self.cleanup_operation(operation_id)
        with contextlib.suppress(Exception):  # the client may be gone already
            await self.websocket.close(code=code, reason=reason)

    async def shutdown(self) -> None:
        self._closing = True
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._watch
        if self._account is not None:
            socket_sessions(self.view).remove(self._account)
            self._account = None
        await super().shutdown()

    # --- operations ---------------------------------------------------------------------------
    async def handle_subscribe(self, message: Any) -> None:
        if self._closing:
            return  # closing: nothing starts any more
        if self.connection_acknowledged and self._expired():
            await self._close(CLOSE_FORBIDDEN, "TOKEN_EXPIRED")
            return
        payload = message.get("payload")
        if (
            self.connection_acknowledged
            and isinstance(payload, dict)
            and message.get("id") not in self.operations
        ):
            limit = self.context.settings.max_subscriptions_per_connection
            if len(self.operations) >= limit:
                await self._refuse_over_cap(message["id"], limit)
                return
            view: Any = self.view  # the JobuniversGraphQLRouter (api/router.py)
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

    async def _refuse_over_cap(self, operation_id: str, limit: int) -> None:
        refusal = RateLimited(
            f"Der kører allerede {limit} abonnementer på forbindelsen. "
            "Stop et af dem, før du starter et nyt.",
            f"{limit} subscriptions are already running on this connection. "
            "Stop one before starting another.",
            extensions={"reason": "TOO_MANY_SUBSCRIPTIONS", "limit": limit},
        )
        ctx = self.context
        error = GraphQLError(refusal.message_da, original_error=refusal)
        present_error(error, ctx.locale, ctx.request_id)
        error.extensions = {**(error.extensions or {}), "requestId": ctx.request_id}
        await self.send_message({"id": operation_id, "type": "error", "payload": [error.formatted]})


async def authenticate_socket(context: Any) -> UnsetType | dict[str, object] | None:
    """Authenticate the socket from the connection_init payload ``{"authorization": ...}``
    (``Bearer <token>`` or the bare token).

    A socket without a valid token is closed with 4403 before any subscription starts, with
    the refusal's reason (``TOKEN_EXPIRED``, ``TOKEN_INVALID``, ``ACCOUNT_DELETED`` ...); when
    the sign-in service cannot be reached, with 1013 and ``AUTH_UNAVAILABLE`` (``TIMEOUT`` when
    signing in took longer than ``request_timeout_s``, ``UNAVAILABLE`` while starting).
    """
    params = context.connection_params if isinstance(context.connection_params, dict) else {}
    raw = params.get("authorization") or params.get("Authorization")
    token = bearer_token(raw) if isinstance(raw, str) else None
    if token is None and isinstance(raw, str) and " " not in raw.strip():
        token = raw.strip() or None
    try:
        async with asyncio.timeout(context.settings.request_timeout_s):
            result = await authenticate(context.verifier, token)
    except (Outage, TimeoutError) as e:
        reason = e.reason.value if isinstance(e, Outage) else "TIMEOUT"
        log.warning("websocket sign-in could not be checked",
                    extra={"request_id": context.request_id, "error": type(e).__name__,
                           "reason": reason})  # fmt: skip
        raise SocketRefused(CLOSE_TRY_AGAIN_LATER, reason) from None
    if result.actor is None:
        if isinstance(result.error, Unavailable):  # still starting: come back shortly
            raise SocketRefused(CLOSE_TRY_AGAIN_LATER, "UNAVAILABLE")
        raise SocketRefused(CLOSE_FORBIDDEN, _refusal_reason(result.error))
    context.auth = result
    context.socket_token = token  # the session's rechecks verify it again
    return UNSET
