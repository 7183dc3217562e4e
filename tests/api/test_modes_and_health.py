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


# --- production mode (issue 16, L5) ------------------------------------------------------------
def _production_settings(settings: Settings, tmp_path: Path, **update) -> Settings:
    """The suite's settings in production mode, the mode's defaults applied as a deployment
    gets them (signing in with the suite's local tokens through the verifier passed in)."""
    values = {**settings.model_dump(), "mode": "production", "graphiql": None,
              "introspection": None, "auth_provider": None, "push_transport": None,
              "persisted_queries_only": None,
              "firebase_credentials": _service_account(tmp_path), **update}  # fmt: skip
    return Settings(**values)


def _production_app(settings: Settings, tmp_path: Path, **update):
    from api.auth.local_tokens import LocalTokenVerifier

    return create_app(
        _production_settings(settings, tmp_path, **update),
        verifier=LocalTokenVerifier(TEST_SECRET),
    )


def test_production_runs_only_persisted_operations_by_default(tmp_path, monkeypatch):
    monkeypatch.delenv("FIREBASE_AUTH_EMULATOR_HOST", raising=False)
    s = Settings(
        mode="production",
        mongodb_uri="mongodb://db.example:27017/?replicaSet=rs0",
        firebase_credentials=_service_account(tmp_path),
    )
    assert s.persisted_queries_only is True
    assert Settings().persisted_queries_only is False  # local mode: any document


SUGGESTING = {
    # graphql-core suggests names for each of these; only fields were covered before
    "argument": "{ myMeetingRequests(statu: [PENDING]) { id } }",
    "enum value": "{ myMeetingRequests(status: [PENDIN]) { id } }",
    "type": "query($s: [MeetingRequestStatu!]) { myMeetingRequests(status: $s) { id } }",
    "input field": 'mutation { updateMyProfile(input: {firstNam: "A", lastName: "B", '
    'postalCode: "8000"}) { firstName } }',
    "field": "{ viewer { i } }",
}


async def _answers(app, documents: dict[str, str], variables: dict | None = None) -> dict:
    from seed.demo import DEMO_CITIZEN_ID
    from tests.conftest import token_for

    auth = {"Authorization": f"Bearer {token_for(DEMO_CITIZEN_ID)}"}
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            out = {}
            for name, document in documents.items():
                body = {"query": document, "variables": variables or {}}
                out[name] = (await client.post("/graphql", json=body, headers=auth)).text
            return out


async def test_no_suggestions_in_production(settings, sync_db, tmp_path, monkeypatch):
    monkeypatch.delenv("FIREBASE_AUTH_EMULATOR_HOST", raising=False)
    local = await _answers(create_app(settings), SUGGESTING)
    assert all("Did you mean" in text for text in local.values()), local  # they do suggest
    production = await _answers(
        _production_app(settings, tmp_path, persisted_queries_only=False), SUGGESTING
    )
    for name, text in production.items():
        assert "Did you mean" not in text, (name, text)
        assert "GRAPHQL_VALIDATION_FAILED" in text, (name, text)


async def test_no_suggestions_for_a_registered_operations_variables(settings, sync_db, tmp_path,
                                                                    monkeypatch):  # fmt: skip
    """Persisted-only (the production default): a registered operation with a wrong enum
    value in its variables is refused without naming the right one."""
    from api.persisted import CONTRACT_DIR

    monkeypatch.delenv("FIREBASE_AUTH_EMULATOR_HOST", raising=False)
    document = (CONTRACT_DIR / "operations" / "MyMeetingRequests.graphql").read_text()
    variables = {"status": ["PENDIN"]}
    local = await _answers(create_app(settings), {"op": document}, variables)
    assert "Did you mean" in local["op"]
    app = _production_app(settings, tmp_path)
    assert app.state.settings.persisted_queries_only is True
    production = await _answers(app, {"op": document, "free": "{ viewer { id } }"}, variables)
    assert "Did you mean" not in production["op"] and "BAD_USER_INPUT" in production["op"]
    assert "PERSISTED_QUERY_REQUIRED" in production["free"]


async def test_production_refuses_a_standalone_database(settings, tmp_path, monkeypatch):
    """w: "majority" needs copies: a production API does not start on a standalone server."""
    from store.client import StandaloneDatabaseError

    monkeypatch.delenv("FIREBASE_AUTH_EMULATOR_HOST", raising=False)
    standalone = EmbeddedDatabase(tmp_path / "db", port=free_port(), cache_size="64M",
                                  standalone=True)  # fmt: skip
    with standalone:
        uri = f"{standalone.uri}?directConnection=true"
        app = _production_app(settings, tmp_path, mongodb_uri=uri)
        with pytest.raises(StandaloneDatabaseError, match="replica set"):
            async with app.router.lifespan_context(app):
                pass
