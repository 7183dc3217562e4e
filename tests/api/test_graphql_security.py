"""Query limits, error masking, logs without personal data, persisted operations."""

from __future__ import annotations

import json
import logging

import pytest

from api.auth.actor import Role
from api.persisted import CONTRACT_DIR, sha256_hex
from core.logging import silence_library_loggers
from seed.demo import DEMO_CITIZEN_ID, DEMO_COMPANY_CVR, DEMO_EMPLOYER_ID, seed_demo_accounts
from store import collections as c
from tests.conftest import error_codes, gql, token_for

VIEWER_DOC = (CONTRACT_DIR / "operations" / "Viewer.graphql").read_text(encoding="utf-8")


def _nested(depth: int) -> str:
    inner = "name"
    for i in range(depth - 2):
        inner = f"f{i} {{ {inner} }}"
    return f"{{ viewer {{ company {{ {inner} }} }} }}"


async def test_depth_20_query_is_rejected(client):
    result = await gql(client, _nested(20), token=token_for(DEMO_CITIZEN_ID))
    assert result.get("data") is None
    messages = [e["message"] for e in result["errors"]]
    assert any("exceeds maximum operation depth of 10" in m for m in messages)
    assert set(error_codes(result)) == {"GRAPHQL_VALIDATION_FAILED"}


async def test_too_many_aliases_are_rejected(client):
    aliases = " ".join(f"a{i}: viewer {{ id }}" for i in range(16))
    result = await gql(client, f"{{ {aliases} }}", token=token_for(DEMO_CITIZEN_ID))
    assert any("aliases found" in e["message"] for e in result["errors"])
    assert error_codes(result)[0] == "GRAPHQL_VALIDATION_FAILED"


async def test_too_many_tokens_are_rejected(client):
    fields = " ".join("id" for _ in range(2100))
    result = await gql(client, f"{{ viewer {{ {fields} }} }}", token=token_for(DEMO_CITIZEN_ID))
    assert result.get("data") is None
    assert error_codes(result) == ["GRAPHQL_PARSE_FAILED"]


async def test_syntax_error_has_stable_code(client):
    result = await gql(client, "{ viewer { id ", token=token_for(DEMO_CITIZEN_ID))
    assert error_codes(result) == ["GRAPHQL_PARSE_FAILED"]


async def test_internal_error_is_masked_with_request_id(client, app, caplog):
    await seed_demo_accounts(app.state.store.db)
    # A company document missing its name makes the resolver fail unexpectedly.
    await app.state.store.db[c.COMPANIES].update_one(
        {"_id": DEMO_COMPANY_CVR}, {"$unset": {"name": ""}}
    )
    token = token_for(DEMO_EMPLOYER_ID, Role.EMPLOYER, DEMO_COMPANY_CVR)
    caplog.set_level(logging.INFO)
    response = await client.post(
        "/graphql",
        json={"query": "{ viewer { company { name } } }"},
        headers={"Authorization": f"Bearer {token}", "X-Request-ID": "abcdef1234567890"},
    )
    assert response.headers["x-request-id"] == "abcdef1234567890"
    error = response.json()["errors"][0]
    assert error["extensions"] == {
        "code": "INTERNAL_SERVER_ERROR",
        "requestId": "abcdef1234567890",
    }
    assert "abcdef1234567890" in error["message"]
    assert "KeyError" not in error["message"] and "name" not in error["message"]
    logged = [r for r in caplog.records if r.name == "api.errors" and r.levelno >= logging.ERROR]
    assert logged and logged[0].exc_info[0] is KeyError
    assert logged[0].request_id == "abcdef1234567890"


async def test_logs_carry_no_personal_data(client, app, caplog):
    await seed_demo_accounts(app.state.store.db)
    silence_library_loggers()  # what configure_logging does at start-up
    caplog.set_level(logging.DEBUG)
    token = token_for(DEMO_CITIZEN_ID)
    result = await gql(client, "{ viewer { displayName } }", token=token)
    assert result["data"]["viewer"]["displayName"] == "Jonas Nielsen"
    await gql(client, "{ viewer { id } }")  # an UNAUTHENTICATED error is logged by code only
    text = "\n".join(
        json.dumps({**r.__dict__, "msg": r.getMessage()}, default=str) for r in caplog.records
    )
    for secret in ("Jonas", "Nielsen", token, "jonas.nielsen@example.dk", "logget ind"):
        assert secret not in text
    assert any(r.name == "api.access" for r in caplog.records)


async def test_persisted_query_by_hash(client, app):
    await seed_demo_accounts(app.state.store.db)
    sha = sha256_hex(VIEWER_DOC)
    response = await client.post(
        "/graphql",
        json={"extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha}}},
        headers={"Authorization": f"Bearer {token_for(DEMO_CITIZEN_ID)}"},
    )
    body = response.json()
    assert body.get("errors") is None
    assert body["data"]["viewer"]["displayName"] == "Jonas Nielsen"


async def test_unknown_persisted_hash(client):
    response = await client.post(
        "/graphql",
        json={"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "0" * 64}}},
    )
    assert error_codes(response.json()) == ["PERSISTED_QUERY_NOT_FOUND"]


async def test_hash_that_does_not_match_text(client):
    response = await client.post(
        "/graphql",
        json={
            "query": "{ viewer { id } }",
            "extensions": {"persistedQuery": {"version": 1, "sha256Hash": "1" * 64}},
        },
    )
    assert error_codes(response.json()) == ["BAD_USER_INPUT"]


@pytest.fixture
def settings_persisted_only(settings):
    return settings.model_copy(update={"persisted_queries_only": True})


async def test_persisted_only_mode(settings_persisted_only, sync_db):
    import httpx

    from api.app import create_app

    app = create_app(settings_persisted_only)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            auth = {"Authorization": f"Bearer {token_for(DEMO_CITIZEN_ID)}"}
            free_text = await client.post(
                "/graphql", json={"query": "{ viewer { id } }"}, headers=auth
            )
            assert error_codes(free_text.json()) == ["PERSISTED_QUERY_REQUIRED"]
            known_text = await client.post("/graphql", json={"query": VIEWER_DOC}, headers=auth)
            assert known_text.json()["data"]["viewer"]["id"] == DEMO_CITIZEN_ID


def test_library_loggers_cannot_leak_at_debug():
    silence_library_loggers()
    root = logging.getLogger()
    before = root.level
    root.setLevel(logging.DEBUG)
    try:
        assert not logging.getLogger("pymongo.command").isEnabledFor(logging.DEBUG)
        assert not logging.getLogger("httpx").isEnabledFor(logging.INFO)
    finally:
        root.setLevel(before)
