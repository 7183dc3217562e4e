"""The FastAPI application: lifespan (database client, indexes), middleware, routes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from pymongo.monitoring import CommandListener
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from core.logging import new_request_id, request_id_var
from core.settings import Settings
from matching.engine import MatchingEngine, build_engine
from notifications import jobagent
from store.client import Store

from . import health
from .auth.verifier import TokenVerifier, build_verifier
from .companies.service import EmployerAccounts
from .context import Context, authenticate, bearer_token, locale_from_header
from .directory import DIRECTORY
from .housekeeping import run_forever
from .indexes import prepare_collections
from .jobs import repository as jobs_repository
from .loaders import Loaders
from .offers import repository as offers_repository
from .persisted import PersistedQueries
from .router import GRAPHIQL_ASSETS_DIR, GRAPHIQL_ASSETS_PATH, JobuniversGraphQLRouter
from .schema import build_schema
from .taxonomy import repository as taxonomy_repository

access_log = logging.getLogger("api.access")


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


async def _load_engine(engine: MatchingEngine, store: Store) -> None:
    """Load the search index, retrying while the database is unreachable."""
    delay = 1.0
    while True:
        try:
            await engine.load(
                occupations=await taxonomy_repository.occupations_for_matching(store.db),
                postings=await jobs_repository.open_postings_for_matching(
                    store.db, datetime.now(UTC)
                ),
            )
            # The deck only looks offer vectors up: embed the open offers once, here.
            await engine.warm_offer_vectors(
                await offers_repository.open_offers(store.db, datetime.now(UTC))
            )
            return
        except asyncio.CancelledError:
            raise
        except Exception:
            logging.getLogger(__name__).exception("loading the search index failed; retrying")
            await asyncio.sleep(delay)
            delay = min(delay * 2, 30.0)


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
    persisted = PersistedQueries.load()
    matching = engine or build_engine(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = Store(
            settings.effective_mongodb_uri,
            settings.database_name,
            server_selection_timeout_ms=settings.server_selection_timeout_ms,
            event_listeners=command_listeners,
        )
        app.state.store = store
        app.state.engine = matching
        app.state.erased_accounts = token_verifier.erased

        async def index_loaded() -> bool:
            return matching.ready

        app.state.readiness_checks = {
            "database": lambda: store.ping(settings.readiness_timeout_s),
            "search_index": index_loaded,
        }
        loading: asyncio.Task | None = None
        chores: asyncio.Task | None = None
        agent: asyncio.Task | None = None
        try:
            await prepare_collections(store.db)
            if not matching.ready:
                loading = asyncio.create_task(_load_engine(matching, store))
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
            ctx.auth = await authenticate(
                token_verifier, bearer_token(headers.get("authorization"))
            )
            if ctx.auth.actor is not None:
                await employer_accounts.note(store.db, ctx.auth.actor, ctx.locale)
        return ctx

    app = FastAPI(
        title="Jobunivers",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    graphql = JobuniversGraphQLRouter(
        build_schema(settings),
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
    app.add_middleware(RequestIdMiddleware)
    return app
