"""Shared fixtures: one embedded SecantusDB server per test session (a real socket, as in
production), a database of its own for every test, and the app wired to it."""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from pymongo import MongoClient
from pymongo.monitoring import CommandFailedEvent, CommandListener, CommandStartedEvent

from api.app import create_app
from api.auth.actor import Role
from api.auth.local_tokens import mint_local_token
from core.settings import Settings
from store.embedded import EmbeddedDatabase, free_port

# The seeded world with a loaded matching engine, shared by the matching and API tests.
pytest_plugins = ["tests.matching.world", "tests.api.citizen_world"]

TEST_SECRET = "test-secret-" + "x" * 40


class CommandCounter(CommandListener):
    """Counts database commands by name, so an N+1 shows up as a number in a test."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.commands: list[str] = []

    def started(self, event: CommandStartedEvent) -> None:
        if event.command_name in {"hello", "ismaster", "ping", "endSessions", "isMaster"}:
            return
        with self._lock:
            self.commands.append(event.command_name)

    def succeeded(self, event: object) -> None:
        pass

    def failed(self, event: CommandFailedEvent) -> None:
        pass

    def reset(self) -> None:
        with self._lock:
            self.commands.clear()

    def count(self, name: str | None = None) -> int:
        return len([c for c in self.commands if name is None or c == name])


@pytest.fixture(scope="session")
def db_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedDatabase]:
    root = tmp_path_factory.mktemp("secantus")
    # Not fsynced at each commit: this server holds the suite's behaviour tests, whose data
    # nobody needs after a crash. Durability is tested where it is the subject
    # (tests/store/test_durability.py, the fault tests on `jobunivers run`), with the defaults.
    server = EmbeddedDatabase(root / "db", port=free_port(), cache_size="256M",
                              sync_on_commit=False)  # fmt: skip
    server.start()
    yield server
    server.stop()


@pytest.fixture
def database_name() -> str:
    return f"t_{uuid.uuid4().hex[:12]}"


@pytest.fixture
def settings(db_server: EmbeddedDatabase, database_name: str, tmp_path: Path) -> Settings:
    return Settings(
        mode="local",
        mongodb_uri=db_server.uri,
        database_name=database_name,
        data_dir=tmp_path,
        local_token_secret=TEST_SECRET,
        server_selection_timeout_ms=3000,
        # The suite's database calls may wait longer than a user's (1.4 s) on a loaded CI
        # machine; the outage tests set the shipped limits themselves.
        database_operation_timeout_ms=15000,
        log_json=True,
        housekeeping_interval_s=0,  # tests run housekeeping steps themselves
        job_agent_interval_s=0,
        live_updates_poll_s=0.1,
    )


@pytest.fixture
def sync_db(db_server: EmbeddedDatabase, database_name: str) -> Iterator[object]:
    client: MongoClient = MongoClient(db_server.uri, tz_aware=True)
    yield client[database_name]
    client.drop_database(database_name)
    client.close()


@pytest.fixture
def command_counter() -> CommandCounter:
    return CommandCounter()


@pytest.fixture(scope="session")
def shared_engine(embedder, tmp_path_factory):
    """One matching engine for API tests that are not about matching: the model loads once.
    Each app still loads it against its own (mostly empty) database at start-up."""
    from matching.engine import EngineConfig, MatchingEngine

    return MatchingEngine(embedder, EngineConfig(index_dir=tmp_path_factory.mktemp("index")))


@pytest.fixture
def app(settings: Settings, command_counter: CommandCounter, shared_engine) -> FastAPI:
    shared_engine.ready = False  # load again against this test's database
    return create_app(settings, command_listeners=[command_counter], engine=shared_engine)


@pytest.fixture
async def client(app: FastAPI, sync_db: object) -> AsyncIterator[httpx.AsyncClient]:
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c


def token_for(
    subject: str, role: Role = Role.CITIZEN, cvr: str | None = None, ttl_s: int = 3600
) -> str:
    return mint_local_token(TEST_SECRET, subject, role, cvr, timedelta(seconds=ttl_s))


async def gql(
    client: httpx.AsyncClient,
    query: str,
    *,
    token: str | None = None,
    variables: dict | None = None,
    headers: dict[str, str] | None = None,
) -> dict:
    h = dict(headers or {})
    if token:
        h["Authorization"] = f"Bearer {token}"
    response = await client.post(
        "/graphql", json={"query": query, "variables": variables or {}}, headers=h
    )
    assert response.status_code == 200, response.text
    return response.json()


def error_codes(result: dict) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in result.get("errors") or []]


def receive_json_within(ws, seconds: float = 20.0) -> dict:
    """The next websocket message, or a test failure after ``seconds`` (Starlette's test
    session would wait for ever, and CI with it)."""
    import json

    import anyio

    async def receive() -> dict:
        with anyio.fail_after(seconds):
            return await ws._send_rx.receive()

    message = ws.portal.call(receive)
    assert message["type"] == "websocket.send", message
    return json.loads(message["text"])


@contextlib.contextmanager
def serve_in_thread(app: FastAPI, **options) -> Iterator[int]:
    """The app served by uvicorn on a free 127.0.0.1 port in a thread (a real socket, for
    clients and browsers that need one); yields the port and stops the server afterwards."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None,
                            access_log=False, lifespan="on", **options)  # fmt: skip
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the server did not start"
        time.sleep(0.05)
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(timeout=15)
