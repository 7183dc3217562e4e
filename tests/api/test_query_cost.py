"""Issue 16, H1 and M5: a document's repeated fields, size and cost are measured before
graphql-core validates it (api/cost.py), so the 400x ``viewer { id }`` document and its
variants are refused in milliseconds instead of blocking the server for a second."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest
from graphql import parse

import api.limits
from api.cost import FIELD_WEIGHTS, Limits, analyse
from api.persisted import CONTRACT_DIR
from api.schema import build_schema
from core.settings import Settings
from seed.demo import DEMO_CITIZEN_ID
from tests.conftest import error_codes, gql, token_for

TOKEN = token_for(DEMO_CITIZEN_ID)
H1 = "{ " + " ".join("viewer { id }" for _ in range(400)) + " }"


def _spread_fragments(n: int) -> str:
    spreads = " ".join(f"...F{i}" for i in range(n))
    fragments = " ".join(f"fragment F{i} on Viewer {{ id }}" for i in range(n))
    return f"{{ viewer {{ {spreads} }} }} {fragments}"


def _fragment_bomb(levels: int) -> str:
    """Each fragment spreads the one below it under two fields: 2**levels copies of the
    bottom, in a document of a few hundred tokens."""
    parts = ["fragment G0 on IscoGroup { code label level }"]
    for i in range(1, levels + 1):
        parts.append(f"fragment G{i} on IscoGroup {{ children {{ ...G{i - 1} }} "
                     f"parent {{ ...G{i - 1} }} }}")  # fmt: skip
    return f"{{ iscoGroups {{ ...G{levels} }} }} " + " ".join(parts)


ABUSIVE = {
    "400 viewer { id }": H1,
    "one fragment spread 400 times": "{ viewer { "
    + " ".join("...F" for _ in range(400))
    + " } } fragment F on Viewer { id }",
    "200 fragments of the same field": _spread_fragments(200),
    "200 overlapping fields with different arguments": "{ "
    + " ".join(f'occupations(search: "a{i}") {{ id }}' for i in range(200))
    + " }",
    "the same key 400 times deep inside": "{ viewer { company { "
    + " ".join("name" for _ in range(400))
    + " } } }",
    "fragments expanding 2**12 times": _fragment_bomb(12),
}


@pytest.fixture
def validations(monkeypatch) -> list[int]:
    """Counts graphql-core validations (api/limits.py runs them through validate_document)."""
    calls: list[int] = []
    real = api.limits.validate_document

    def counting(*args, **kw):
        calls.append(1)
        return real(*args, **kw)

    monkeypatch.setattr(api.limits, "validate_document", counting)
    return calls


@pytest.mark.parametrize("name", list(ABUSIVE))
async def test_abusive_documents_are_refused_before_validation(client, validations, caplog,
                                                               name):  # fmt: skip
    caplog.set_level(logging.INFO)
    started = time.perf_counter()
    result = await gql(client, ABUSIVE[name])  # unsigned, as in the report
    elapsed = time.perf_counter() - started
    assert result.get("data") is None
    assert error_codes(result) == ["QUERY_TOO_COMPLEX"]
    extensions = result["errors"][0]["extensions"]
    assert extensions["reason"] in ("REPEATED_FIELD", "FRAGMENTS", "FIELDS", "COST")
    assert validations == [], "graphql-core's validation ran on the refused document"
    assert elapsed < 1.0  # it took 1.0-1.1 s before, with validation (and far less now)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_repeated_field_answer_in_danish_and_english(client):
    da = await gql(client, H1)
    assert (
        da["errors"][0]["message"] == "Feltet 'viewer' er bedt om mere end 5 gange i samme udvalg."
    )
    extensions = da["errors"][0]["extensions"]
    assert extensions.pop("requestId")
    assert extensions == {
        "code": "QUERY_TOO_COMPLEX", "reason": "REPEATED_FIELD", "field": "viewer",
        "maxRepeated": 5,
    }  # fmt: skip
    en = await gql(client, H1, headers={"Accept-Language": "en"})
    assert en["errors"][0]["message"] == (
        "The field 'viewer' is asked for more than 5 times in one selection."
    )


async def test_a_field_asked_for_a_few_times_still_runs(client, validations):
    result = await gql(client, "{ viewer { id id } viewer { role } }", token=TOKEN)
    assert result == {"data": {"viewer": {"id": DEMO_CITIZEN_ID, "role": "CITIZEN"}}}
    assert validations == [1]


async def test_a_costly_document_is_refused_with_its_cost(client):
    # 15 aliases of the app's RecommendedJobs at a page of 50: far above the cap.
    selection = (CONTRACT_DIR / "operations" / "RecommendedJobs.graphql").read_text()
    body = selection[selection.index("{", selection.index("recommendedJobs")) :]
    body = body[: body.rindex("}")]  # the operation's closing brace off
    aliases = " ".join(f"r{i}: recommendedJobs(first: 50) {body}" for i in range(15))
    result = await gql(client, f"{{ {aliases} }}", token=TOKEN,
                       headers={"Accept-Language": "en"})  # fmt: skip
    error = result["errors"][0]
    assert error_codes(result) == ["QUERY_TOO_COMPLEX"]
    assert error["extensions"]["reason"] == "COST"
    assert error["extensions"]["maxCost"] == 5000 and error["extensions"]["cost"] > 5000
    assert error["message"].startswith("The query is too large: it costs more than 5000 points")
    one = await gql(client, f"{{ recommendedJobs(first: 50) {body} }}", token=TOKEN)
    assert "QUERY_TOO_COMPLEX" not in error_codes(one)


SCHEMA = build_schema(Settings())._schema
UNCAPPED = Limits(max_repeated_fields=5, max_query_cost=10**9)


def _cost(document: str, variables: dict | None = None) -> int:
    analysis = analyse(parse(document), SCHEMA, variables or {}, UNCAPPED)
    assert analysis.refusal is None
    return analysis.cost


def test_cost_counts_list_sizes_aliases_and_defaults():
    one = "recommendedJobs(first: 50) { edges { node { posting { id title } } } }"
    single = _cost(f"{{ {one} }}")
    assert single == FIELD_WEIGHTS["Query.recommendedJobs"] + 1 + 50 * 4
    fifteen = _cost("{ " + " ".join(f"r{i}: {one}" for i in range(15)) + " }")
    assert fifteen == 15 * single  # aliases are the fields they are
    # The page size comes from the literal, the variable, the variable's default or the
    # argument's default (recommendedJobs: 20), capped at the page cap (50).
    var = "query($n: Int = 7) { recommendedJobs(first: $n) { edges { cursor } } }"
    assert _cost(var) == 10 + 1 + 7
    assert _cost(var, {"n": 3}) == 10 + 1 + 3
    assert _cost("{ recommendedJobs { edges { cursor } } }") == 10 + 1 + 20
    assert _cost("{ recommendedJobs(first: 100000) { edges { cursor } } }") == 10 + 1 + 50
    # A list without a size argument counts as 5; fragments count as what they expand to.
    assert _cost("{ iscoGroups { code children { code } } }") == 1 + 5 + 5 + 25
    assert _cost("{ iscoGroups { ...G } } fragment G on IscoGroup { code }") == 1 + 5
    assert _cost("{ viewer { __typename id } }") == 2  # __typename is free
    assert _cost("mutation { markAllNotificationsRead }") == 10  # a write's root field


def _operations() -> list[Path]:
    return sorted((CONTRACT_DIR / "operations").glob("*.graphql"))


@pytest.mark.parametrize("path", _operations(), ids=lambda p: p.stem)
def test_every_app_operation_stays_well_under_the_cap(path):
    """The app's operations with their normal variables cost at most a fifth of the cap, and
    even at the largest page (first: 50) stay under it."""
    cap = Settings().max_query_cost
    limits = Limits(max_repeated_fields=Settings().max_repeated_fields, max_query_cost=cap)
    document = parse(path.read_text(encoding="utf-8"))
    normal = analyse(document, SCHEMA, {}, limits)
    assert normal.refusal is None and normal.cost <= cap // 5, (path.stem, normal.cost)
    largest = analyse(document, SCHEMA, {"first": 50}, limits)
    assert largest.refusal is None and largest.cost <= cap * 0.6, (path.stem, largest.cost)


def test_the_walk_is_bounded_whatever_the_document():
    """A fragment cycle, an unknown fragment or field and a 2**20 expansion end the walk
    without an exception and within max_query_cost visited fields."""
    limits = Limits(max_repeated_fields=5, max_query_cost=5000)
    cycle = "{ viewer { ...A } } fragment A on Viewer { id ...B } fragment B on Viewer { ...A }"
    assert analyse(parse(cycle), SCHEMA, {}, limits).refusal is None
    unknown = "{ nothing { ...Missing } viewer { nope { deeper } } }"
    assert analyse(parse(unknown), SCHEMA, {}, limits).refusal is None
    bomb = analyse(parse(_fragment_bomb(20)), SCHEMA, {}, limits)
    assert bomb.refusal is not None and bomb.fields <= 5001


def test_the_limits_hold_on_the_websocket_too(app, sync_db):
    """A subscribe message runs the same checks (one rule for every transport)."""
    from fastapi.testclient import TestClient

    from tests.conftest import receive_json_within

    repeated = "subscription { " + " ".join("heartbeat { at }" for _ in range(6)) + " }"
    with (
        TestClient(app) as http,
        http.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"]) as ws,
    ):
        ws.send_json({"type": "connection_init",
                      "payload": {"authorization": f"Bearer {TOKEN}"}})  # fmt: skip
        assert receive_json_within(ws, 10)["type"] == "connection_ack"
        ws.send_json({"id": "1", "type": "subscribe", "payload": {"query": repeated}})
        answer = receive_json_within(ws, 10)
        assert answer["type"] == "error" and answer["id"] == "1"
        (error,) = answer["payload"]
        assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"
        assert error["extensions"]["reason"] == "REPEATED_FIELD"
        assert error["message"].startswith("Feltet 'heartbeat' er bedt om mere end 5 gange")
