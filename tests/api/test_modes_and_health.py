"""Production mode refusals, GraphiQL/introspection switches, /healthz and /readyz."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest

from api.app import create_app
from core.settings import ConfigurationError, Settings
from store.embedded import EmbeddedDatabase, free_port
from tests.conftest import TEST_SECRET

INTROSPECT = "{ __schema { queryType { name } } }"


def _service_account(tmp_path: Path) -> Path:
    path = tmp_path / "sa.json"
    path.write_text(json.dumps({"type": "service_account"}))
    return path


def test_production_requires_mongodb_uri_and_credentials(tmp_path):
    with pytest.raises(ConfigurationError) as refused:
        Settings(mode="production", mongodb_uri=None, firebase_credentials=None).check_runnable()
    assert "MONGODB_URI" in str(refused.value)
    assert "credentials" in str(refused.value)


def test_production_refuses_auth_emulator(tmp_path, monkeypatch):
    monkeypatch.setenv("FIREBASE_AUTH_EMULATOR_HOST", "127.0.0.1:9099")
    s = Settings(
        mode="production",
        mongodb_uri="mongodb://db.example:27017/?replicaSet=rs0",
        firebase_credentials=_service_account(tmp_path),
    )
    with pytest.raises(ConfigurationError, match="FIREBASE_AUTH_EMULATOR_HOST"):
        s.check_runnable()
    with pytest.raises(ConfigurationError):
        create_app(s)


def test_production_defaults(tmp_path, monkeypatch):
    monkeypatch.delenv("FIREBASE_AUTH_EMULATOR_HOST", raising=False)
    s = Settings(
        mode="production",
        mongodb_uri="mongodb://db.example:27017/?replicaSet=rs0",
        firebase_credentials=_service_account(tmp_path),
    )
    s.check_runnable()
    assert (s.graphiql, s.introspection, s.auth_provider, s.push_transport) == (
        False,
        False,
        "firebase",
        "fcm",
    )
    local = Settings()
    assert (local.graphiql, local.introspection, local.auth_provider) == (True, True, "local")


def test_settings_read_prefixed_environment(monkeypatch):
    monkeypatch.setenv("JOBUNIVERS_MAX_QUERY_DEPTH", "7")
    monkeypatch.setenv("MONGODB_URI", "mongodb://elsewhere:27017/")
    s = Settings()
    assert s.max_query_depth == 7
    assert s.effective_mongodb_uri == "mongodb://elsewhere:27017/"
    assert not s.uses_embedded_db


async def test_introspection_and_graphiql_off_when_configured(settings, sync_db):
    app = create_app(settings.model_copy(update={"introspection": False, "graphiql": False}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            result = (await client.post("/graphql", json={"query": INTROSPECT})).json()
            assert result["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
            ide = await client.get("/graphql", headers={"accept": "text/html"})
            assert ide.status_code == 404


async def test_introspection_and_graphiql_on_locally(client):
    result = (await client.post("/graphql", json={"query": INTROSPECT})).json()
    assert result["data"]["__schema"]["queryType"]["name"] == "Query"
    ide = await client.get("/graphql", headers={"accept": "text/html"})
    assert ide.status_code == 200 and "graphiql" in ide.text.lower()


async def test_healthz(client):
    response = await client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


async def _ready(client: httpx.AsyncClient) -> tuple[int, dict]:
    response = await client.get("/readyz")
    return response.status_code, response.json()


async def test_readyz_follows_the_database(tmp_path):
    """/readyz is 503 while the database is down and recovers when it is back."""
    server = EmbeddedDatabase(tmp_path / "db", port=free_port(), cache_size="128M")
    server.start()
    settings = Settings(
        mongodb_uri=server.uri,
        database_name="readyz",
        data_dir=tmp_path,
        local_token_secret=TEST_SECRET,
        readiness_timeout_s=1.0,
    )
    app = create_app(settings)
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                for _ in range(60):  # the (empty) search index loads in the background
                    status, body = await _ready(client)
                    if status == 200:
                        break
                    await asyncio.sleep(0.25)
                assert (status, body) == (
                    200,
                    {"ready": True, "checks": {"database": True, "search_index": True}},
                )
                await asyncio.to_thread(server.stop)
                status, body = await _ready(client)
                assert status == 503 and body["checks"]["database"] is False
                assert body["reasons"]["database"]  # a write that failed, or no answer in time
                assert (await client.get("/healthz")).status_code == 200  # alive, not ready
                await asyncio.to_thread(server.start)
                for _ in range(30):
                    status, body = await _ready(client)
                    if status == 200:
                        break
                    await asyncio.sleep(0.5)
                assert status == 200 and body["ready"] is True
    finally:
        server.stop()
