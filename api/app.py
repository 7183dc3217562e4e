"""The FastAPI application: lifespan (database client, indexes), middleware, routes.

Outages (docs in api/errors.py and api/router.py): the store's calls carry timeoutMS and
durable writes; RequestGuard refuses GraphQL HTTP requests beyond ``max_requests_in_flight``
at once (503, UNAVAILABLE/OVERLOADED) and starts each request's deadline; a database failing
while the request signs in answers 503 UNAVAILABLE, not HTTP 500.

Limits (api/limits.py, api/cost.py, api/ratelimit.py): BodyLimit answers a GraphQL body over
``max_body_bytes`` with 413 before it is read; each operation's size, cost and rate limit are
checked before graphql-core validates it."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import pymongo
from fastapi import FastAPI
from fastapi.exception_handlers import http_exception_handler
from fastapi.staticfiles import StaticFiles
from pymongo.monitoring import CommandListener
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import HTTPConnection, Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from core.errors import Outage, UnavailableReason
from core.logging import configure_logging, new_request_id, request_id_var
from core.settings import Settings, get_settings
from matching.cache import EmbeddingCache
from matching.engine import MatchingEngine, build_engine
from notifications import jobagent
from store.client import Store, require_replica_set

from . import health
from .auth.verifier import TokenVerifier, build_verifier
from .companies.service import EmployerAccounts
from .context import Context, authenticate, bearer_token, locale_from_header
from .directory import DIRECTORY
from .errors import outage_reason, unavailable_response
from .housekeeping import freeze_start_up_heap, run_forever
from .indexes import prepare_collections
from .jobs import repository as jobs_repository
from .limits import BodyLimit, refusal_response, strawberry_refusal
from .loaders import Loaders
from .offers.catalogue import catalogue_for
from .persisted import PersistedQueries
from .router import (
    DEADLINE_STATE,
    GRAPHIQL_ASSETS_DIR,
    GRAPHIQL_ASSETS_PATH,
    JobuniversGraphQLRouter,
    database_deadline,
    request_deadline,
)
from .schema import build_schema
from .taxonomy import repository as taxonomy_repository

access_log = logging.getLogger("api.access")
# Start-up work reads and writes in bulk (index builds, the search index's postings): bounded,
# but not by the per-call timeoutMS meant for requests (a cursor's whole life counts there).
STARTUP_DB_TIMEOUT_S = 600.0


class RequestIdMiddleware:
    """Gives every HTTP request and websocket an id (or keeps a well-formed X-Request-ID),
    returns it in the response header and writes one access line without query strings."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        incoming = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        rid = incoming if incoming.isalnum() and 8 <= len(incoming) <= 64 else new_request_id()
        scope.setdefault("state", {})["request_id"] = rid
        token = request_id_var.set(rid)
        started = time.perf_counter()
        status = {"code": 0}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            access_log.info(
                "request",
                extra={
                    "method": scope.get("method", "WS"),
                    "path": scope.get("path"),
                    "status": status["code"],
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                },
            )
            request_id_var.reset(token)


class RequestGuard:
    """For GraphQL HTTP requests: refuse at once (HTTP 503, UNAVAILABLE with reason OVERLOADED,
    Retry-After) when ``max_requests_in_flight`` are already running in this process, instead of
    letting them queue; and start the request's deadline, so every database call it makes
    (signing in included) ends by it. /healthz, /readyz and websockets are never refused."""

    def __init__(self, app: ASGIApp, *, settings: Settings, path: str) -> None:
        self.app = app
        self.settings = settings
        self.path = path
        self.in_flight = 0  # one event loop per process: a plain counter is exact
        self.refused = 0  # since the last warning
        self.warned_at = -float("inf")

    def _note_refusal(self) -> None:
        # At most one warning every 10 s: under overload a line per refusal adds to the load.
        self.refused += 1
        now = time.monotonic()
        if now - self.warned_at >= 10.0:
            access_log.warning("requests refused: too many in flight",
                               extra={"in_flight": self.in_flight, "refused": self.refused})  # fmt: skip
            self.refused, self.warned_at = 0, now

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") != self.path:
            await self.app(scope, receive, send)
            return
        if self.in_flight >= self.settings.max_requests_in_flight:
            self._note_refusal()
            request = Request(scope)
            response = unavailable_response(
                UnavailableReason.OVERLOADED,
                locale_from_header(request.headers.get("accept-language")),
                scope.get("state", {}).get("request_id") or new_request_id(),
                self.settings.retry_after_s,
            )
            await response(scope, receive, send)
            return
        deadline = time.monotonic() + self.settings.request_timeout_s
        scope.setdefault("state", {})[DEADLINE_STATE] = deadline
        self.in_flight += 1
        try:
            with database_deadline(deadline):
                await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1


@asynccontextmanager
async def _index_build_lock(index_dir: Path) -> AsyncIterator[None]:
    """One process at a time builds (or reads) the index files under ``index_dir``: the API
    processes of one machine (``serve --workers N``) share the data directory, so the first
    embeds and saves the index and the others, once it is done, read it from disk instead of
    embedding the same postings side by side and writing the same files at once. Polled (no
    thread blocked in flock), so a shutdown while waiting is not held up."""
    index_dir.parent.mkdir(parents=True, exist_ok=True)
    lock_path = index_dir.with_name(index_dir.name + ".lock")
    with lock_path.open("w") as f:  # creating an empty file: no wait worth a thread
        while True:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                await asyncio.sleep(0.2)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


async def _reread_embedding_cache(engine: MatchingEngine) -> None:
    """The disk cache of embeddings as it is now: another process of this machine may have
    appended to it since this one read it (an instance reads the files once, when built)."""
    cache = engine.embedder.cache
    if cache is not None:
        engine.embedder.cache = await asyncio.to_thread(
            EmbeddingCache, cache.keys_path.parent, engine.embedder.model_id, cache.dimension
        )


async def _load_engine(engine: MatchingEngine, store: Store, done: asyncio.Event) -> None:
    """Load the search index, retrying while the database is unreachable; ``done`` once the
    start-up work that holds the event loop (the deck's catalogue of open offers, the heap's
    freeze: a full collection of millions of objects, 0.3-1 s) is over, so no request waits
    behind it. Then the offers the embedding cache lacked are embedded, in bounded passes."""
    delay = 1.0
    while True:
        try:
            async with _index_build_lock(engine.config.index_dir):
                await _reread_embedding_cache(engine)
                with pymongo.timeout(STARTUP_DB_TIMEOUT_S):
                    occupations = await taxonomy_repository.occupations_for_matching(store.db)
                    postings = await jobs_repository.open_postings_for_matching(
                        store.db, datetime.now(UTC)
                    )
                await engine.load(occupations=occupations, postings=postings)
            # The deck's catalogue of open offers, with the vectors the embedding cache has;
            # the others are embedded after ready, in bounded passes (the deck ranks an offer
            # without similarity until then). Embedding every offer here kept a process with
            # 20,000 new offers from being ready for minutes.
            catalogue = catalogue_for(store.db)
            with pymongo.timeout(STARTUP_DB_TIMEOUT_S):
                await catalogue.ensure_loaded(store.db, engine)
            freeze_start_up_heap()
            done.set()
            break
        except asyncio.CancelledError:
            raise
        except Exception as e:
            reason = outage_reason(e)
            if reason is None:
                logging.getLogger(__name__).exception("loading the search index failed; retrying")
            else:  # the database is down: no traceback at every retry
                logging.getLogger(__name__).warning(
                    "loading the search index waits for the database",
                    extra={"reason": str(reason), "error": type(e).__name__},
                )
            await asyncio.sleep(delay)
            delay = min(delay * 2, 30.0)
    try:
        await catalogue.fill_vectors(store.db, engine, until_done=True)
    except asyncio.CancelledError:
        raise
    except Exception:  # the housekeeping passes go on filling, one bounded batch each
        logging.getLogger(__name__).exception("embedding the deck's offers failed")


def create_app(
    settings: Settings,
    *,
    command_listeners: Sequence[CommandListener] = (),
    verifier: TokenVerifier | None = None,
    engine: MatchingEngine | None = None,
) -> FastAPI:
    """The app. ``engine`` lets tests share one loaded matching engine; by default one is built
    from settings and loaded in the background at start-up (``/readyz`` waits for it)."""
    settings.check_runnable()
    token_verifier = verifier or build_verifier(settings)
    persisted = PersistedQueries.load(learn_max_chars=settings.cached_document_max_chars)
    matching = engine or build_engine(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Serving: every database call within timeoutMS, every write durable (store/client.py).
        store = Store.from_settings(settings, serving=True, event_listeners=command_listeners)
        app.state.store = store
        app.state.engine = matching
        app.state.erased_accounts = token_verifier.erased
        # Ready once start-up is over, not as soon as the index answers: the freeze after it
        # held the loop for up to a second, and a load balancer (or `jobunivers run`'s wait)
        # sent requests into it (issue 18: the swipe tail's first seconds).
        started_up = asyncio.Event()
        if matching.ready:  # an engine handed in (tests) is loaded and warm already
            started_up.set()
        checks = health.readiness_checks(settings, store, matching)
        index_loaded = checks["search_index"]

        async def search_index() -> str | None:
            return await index_loaded() if started_up.is_set() else "not loaded yet"

        app.state.readiness_checks = {**checks, "search_index": search_index}
        loading: asyncio.Task | None = None
        chores: asyncio.Task | None = None
        agent: asyncio.Task | None = None
        try:
            with pymongo.timeout(STARTUP_DB_TIMEOUT_S):
                if settings.is_production:
                    await require_replica_set(store.client)  # w: majority needs copies
                await prepare_collections(store.db)
            if not matching.ready:
                loading = asyncio.create_task(_load_engine(matching, store, started_up))
            if settings.housekeeping_interval_s > 0:
                chores = asyncio.create_task(
                    run_forever(store.db, settings, matching, token_verifier.erased)
                )
            if settings.job_agent_interval_s > 0:
                agent = asyncio.create_task(
                    jobagent.run_forever(
                        store.db,
                        matching,
                        DIRECTORY,
                        new_request_id(),
                        settings.job_agent_interval_s,
                    )
                )
            yield
        finally:
            for task in (chores, agent):
                if task is not None:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
            if loading is not None and not loading.done():
                loading.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await loading
            await store.close()

    employer_accounts = EmployerAccounts()

    async def get_context(connection: HTTPConnection) -> Context:
        headers = connection.headers
        rid = connection.scope.get("state", {}).get("request_id") or new_request_id()
        store: Store = connection.app.state.store
        ctx = Context(
            settings=settings,
            db=store.db,
            engine=connection.app.state.engine,
            verifier=token_verifier,
            loaders=Loaders.create(store.db),
            request_id=rid,
            locale=locale_from_header(headers.get("accept-language")),
        )
        if connection.scope["type"] == "http":
            try:
                # Signing in may touch the database (employers are noted): within the deadline,
                # and an outage here answers as one (503 UNAVAILABLE), not as HTTP 500.
                deadline = request_deadline(connection.scope, settings)
                async with asyncio.timeout(max(deadline - time.monotonic(), 0)):
                    ctx.auth = await authenticate(
                        token_verifier, bearer_token(headers.get("authorization"))
                    )
                    if ctx.auth.actor is not None:
                        await employer_accounts.note(store.db, ctx.auth.actor, ctx.locale)
            except Exception as e:
                reason = outage_reason(e)
                if reason is None:
                    raise
                raise Outage(reason, settings.retry_after_s) from e
        return ctx

    async def outage_while_signing_in(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Outage)
        rid = request.scope.get("state", {}).get("request_id") or new_request_id()
        logging.getLogger("api.errors").warning(
            "service unavailable while signing in",
            extra={"reason": str(exc.reason), "error": type(exc.__cause__).__name__,
                   "request_id": rid},
        )  # fmt: skip
        locale = locale_from_header(request.headers.get("accept-language"))
        return unavailable_response(exc.reason, locale, rid, exc.retry_after_s)

    app = FastAPI(
        title="Jobunivers",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.settings = settings
    schema = build_schema(settings, registered=persisted.registered)
    app.state.document_limits = schema.document_limits  # type: ignore[attr-defined]
    graphql = JobuniversGraphQLRouter(
        schema,
        settings=settings,
        persisted=persisted,
        path="/graphql",
        graphql_ide="graphiql" if settings.graphiql else None,
        context_getter=get_context,
        subscription_protocols=[GRAPHQL_TRANSPORT_WS_PROTOCOL],
        allowed_origins=settings.allowed_origins,
    )
    app.include_router(graphql)
    if settings.graphiql:
        # GraphiQL's scripts and styles, from the project (it must work offline).
        assets = StaticFiles(directory=GRAPHIQL_ASSETS_DIR)
        app.mount(GRAPHIQL_ASSETS_PATH, assets, name="graphiql-assets")
    app.include_router(health.router)
    app.add_exception_handler(Outage, outage_while_signing_in)

    async def graphql_http_error(request: Request, exc: Exception) -> Response:
        """FastAPI's own refusals on /graphql (a PUT: 405) are GraphQL-shaped too."""
        assert isinstance(exc, StarletteHTTPException)
        if request.url.path != "/graphql":
            return await http_exception_handler(request, exc)
        refused = strawberry_refusal(exc.status_code, str(exc.detail))
        refused.headers.update(exc.headers or {})
        return refusal_response(refused, request)

    app.add_exception_handler(StarletteHTTPException, graphql_http_error)
    app.add_middleware(RequestGuard, settings=settings, path="/graphql")
    # Outside the guard: a body still arriving does not hold one of the in-flight places.
    app.add_middleware(BodyLimit, settings=settings, path="/graphql")
    app.add_middleware(RequestIdMiddleware)  # outermost: the refusals carry the id too
    return app


def app_from_settings() -> FastAPI:
    """The app from the environment's settings: the factory each API process calls for itself
    under ``jobunivers serve --workers N`` (uvicorn starts the processes with ``spawn``, so
    every one builds its own app, matching engine and database client)."""
    _stop_with_parent()
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json)
    return create_app(settings)


def _stop_with_parent() -> None:
    """An API process spawned by ``serve --workers N`` gets SIGTERM when that parent dies
    (Linux): killed with SIGKILL, the parent cannot stop its processes, which would go on
    holding the port. A no-op elsewhere and outside a spawned process."""
    import ctypes
    import multiprocessing
    import os
    import signal
    import sys

    parent = multiprocessing.parent_process()
    if parent is None or not sys.platform.startswith("linux"):
        return
    pr_set_pdeathsig = 1
    try:
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent.pid:  # it died before the line above
        raise SystemExit(1)
