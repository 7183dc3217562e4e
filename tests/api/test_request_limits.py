"""Issue 16, H2 and M3 (transport): the HTTP body is bounded (413 before a large body is read),
every body that is not UTF-8 JSON holding one bounded object answers 400 with a GraphQL-shaped
body, string literals and variables are bounded, and only registered or small documents are
kept in the parse and validation caches."""

from __future__ import annotations

import json
import logging

import httpx
import pytest

from api.persisted import CONTRACT_DIR, sha256_hex
from seed.demo import DEMO_CITIZEN_ID, seed_demo_accounts
from store import collections as c
from tests.conftest import error_codes, gql, serve_in_thread, token_for

TOKEN = token_for(DEMO_CITIZEN_ID)
AUTH = {"Authorization": f"Bearer {TOKEN}"}
JSON = {"Content-Type": "application/json"}
UPDATE_PROFILE = """mutation($input: CitizenProfileInput!) {
  updateMyProfile(input: $input) { firstName } }"""


def assert_refused(response: httpx.Response, status: int, code: str, reason: str | None = None):
    """A GraphQL-shaped refusal: JSON, one error with a code and the request id, no data."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert "data" not in body
    (error,) = body["errors"]
    assert error["extensions"]["code"] == code
    assert error["extensions"]["requestId"] == response.headers["x-request-id"]
    if reason is not None:
        assert error["extensions"]["reason"] == reason
    return error


@pytest.fixture
def no_tracebacks(caplog):
    caplog.set_level(logging.INFO)
    yield
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


# --- the body's size ----------------------------------------------------------------------------
async def test_a_body_over_the_limit_is_refused_by_its_length(client, settings, no_tracebacks):
    body = json.dumps({"query": "{ viewer { id } }", "variables": {"x": "a" * 300_000}})
    response = await client.post("/graphql", content=body, headers=JSON)
    error = assert_refused(response, 413, "PAYLOAD_TOO_LARGE")
    assert error["message"] == f"Forespørgslen er for stor (højst {settings.max_body_bytes} bytes)."
    assert error["extensions"]["maxBytes"] == 262_144
    en = await client.post("/graphql", content=body, headers={**JSON, "Accept-Language": "en"})
    assert assert_refused(en, 413, "PAYLOAD_TOO_LARGE")["message"] == (
        "The request is too large (at most 262144 bytes)."
    )


async def test_a_streamed_body_is_read_only_up_to_the_limit(client, settings, no_tracebacks):
    """Sent without a Content-Length (chunked), 50 MB: refused once the limit is passed, with
    no more than the limit read (the rest of the 50 MB is never asked for)."""
    sent = {"bytes": 0}
    chunk = b" " * 65_536

    async def fifty_megabytes():
        yield b'{"query": "{ viewer { id } }", "pad": "'
        for _ in range(50 * 16):
            sent["bytes"] += len(chunk)
            yield chunk

    response = await client.post("/graphql", content=fifty_megabytes(), headers=JSON)
    assert_refused(response, 413, "PAYLOAD_TOO_LARGE")
    assert sent["bytes"] <= settings.max_body_bytes + len(chunk)


async def test_a_50_mb_body_on_the_real_server_is_refused_at_once(app, sync_db):
    """On a socket: the headers announce 50 MB, a few bytes follow, and the 413 comes back at
    once (the server never waits for, or keeps, the rest)."""
    import asyncio

    with serve_in_thread(app) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"POST /graphql HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 52428800\r\n\r\n" + b'{"query": "' + b"x" * 1000)  # fmt: skip
        await writer.drain()
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        assert head.startswith(b"HTTP/1.1 413 ")
        length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                          if line.lower().startswith(b"content-length")))  # fmt: skip
        body = json.loads(await asyncio.wait_for(reader.readexactly(length), 10))
        assert body["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
        assert body["errors"][0]["extensions"]["requestId"]
        writer.close()
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            ok = await http.post("/graphql", json={"query": "{ viewer { id } }"}, headers=AUTH)
            assert ok.json() == {"data": {"viewer": {"id": DEMO_CITIZEN_ID}}}


# --- what the body holds ------------------------------------------------------------------------
BAD_BODIES = {
    "invalid UTF-8": (b'{"query": "{ viewer { id } }", "variables": {"a": "\xff\xfe"}}',
                      "INVALID_UTF8"),
    "a 5,000-digit integer": (b'{"query": "{ viewer { id } }", "variables": {"a": '
                              + b"7" * 5000 + b"}}", "NUMBER_TOO_LONG"),
    "variables nested 5,000 deep": (b'{"query": "{ viewer { id } }", "variables": {"a": '
                                    + b"[" * 5000 + b"]" * 5000 + b"}}", "TOO_DEEP"),
    "variables nested 20 deep": (b'{"query": "{ viewer { id } }", "variables": {"a": '
                                 + b'{"b": ' * 20 + b"1" + b"}" * 20 + b"}}", "TOO_DEEP"),
    "a long string in the variables": (json.dumps({"query": "{ viewer { id } }",
                                       "variables": {"a": "x" * 20_001}}).encode(),
                                       "STRING_TOO_LONG"),
    "NaN": (b'{"query": "{ viewer { id } }", "variables": {"a": NaN}}', "INVALID_JSON"),
    "not JSON": (b'{"query": "{ viewer { id } }"', "INVALID_JSON"),
    "a list": (b'[{"query": "{ viewer { id } }"}]', "NOT_AN_OBJECT"),
    "a string": (b'"{ viewer { id } }"', "NOT_AN_OBJECT"),
    "a number": (b"42", "NOT_AN_OBJECT"),
    "null": (b"null", "NOT_AN_OBJECT"),
}  # fmt: skip


@pytest.mark.parametrize("name", list(BAD_BODIES))
async def test_bad_bodies_answer_400_with_a_code(client, app, name, no_tracebacks):
    await seed_demo_accounts(app.state.store.db)
    before = await app.state.store.db[c.CITIZENS].find_one({"_id": DEMO_CITIZEN_ID})
    body, reason = BAD_BODIES[name]
    response = await client.post("/graphql", content=body, headers={**JSON, **AUTH})
    error = assert_refused(response, 400, "BAD_USER_INPUT", reason)
    assert error["message"] and "Traceback" not in response.text
    after = await app.state.store.db[c.CITIZENS].find_one({"_id": DEMO_CITIZEN_ID})
    assert after == before  # nothing was written


async def test_a_refusal_is_in_english_for_en(client):
    response = await client.post(
        "/graphql", content=b"\xff", headers={**JSON, "Accept-Language": "en"}
    )
    error = assert_refused(response, 400, "BAD_USER_INPUT", "INVALID_UTF8")
    assert error["message"] == "The request is not valid UTF-8."
    da = await client.post("/graphql", content=b"\xff", headers=JSON)
    assert assert_refused(da, 400, "BAD_USER_INPUT")["message"] == (
        "Forespørgslen er ikke gyldig UTF-8."
    )


async def test_strawberrys_own_refusals_are_graphql_shaped(client, no_tracebacks):
    no_query = await client.post("/graphql", json={"variables": {}})
    assert_refused(no_query, 400, "BAD_USER_INPUT", "BAD_REQUEST")
    wrong_type = await client.post("/graphql", content=b"query=x",
                                   headers={"Content-Type": "text/plain"})  # fmt: skip
    assert_refused(wrong_type, 400, "BAD_USER_INPUT", "BAD_REQUEST")
    query_not_a_string = await client.post("/graphql", json={"query": 5})
    assert_refused(query_not_a_string, 400, "BAD_USER_INPUT", "BAD_REQUEST")
    mutation_over_get = await client.get(
        "/graphql", params={"query": "mutation { markAllNotificationsRead }"}
    )
    error = assert_refused(mutation_over_get, 400, "BAD_USER_INPUT", "BAD_REQUEST")
    assert error["message"] == "Mutationer skal sendes med POST."
    unknown_name = await client.post(
        "/graphql", json={"query": "query A { viewer { id } }", "operationName": "B"},
        headers={"Accept-Language": "en"},
    )  # fmt: skip
    error = assert_refused(unknown_name, 400, "BAD_USER_INPUT", "BAD_REQUEST")
    assert error["message"] == 'Unknown operation named "B".'
    subscription_over_http = await client.post(
        "/graphql", json={"query": "subscription { heartbeat { at } }"}, headers=AUTH
    )
    error = assert_refused(subscription_over_http, 400, "BAD_USER_INPUT", "BAD_REQUEST")
    assert error["message"] == "Abonnementer skal bruge websocket (graphql-transport-ws)."
    put = await client.put("/graphql", json={"query": "{ viewer { id } }"})
    error = assert_refused(put, 405, "BAD_USER_INPUT", "BAD_REQUEST")
    assert error["message"] == "Kun GET og POST kan bruges." and put.headers["allow"]
    assert (await client.get("/no-such-page")).status_code == 404  # elsewhere: FastAPI's own


async def test_get_variables_are_bounded_too(client, no_tracebacks):
    deep = json.dumps({"a": json.loads("[" * 30 + "]" * 30)})
    response = await client.get("/graphql", params={"query": "{ viewer { id } }",
                                                    "variables": deep})  # fmt: skip
    assert response.status_code == 200
    assert error_codes(response.json()) == ["BAD_USER_INPUT"]
    assert response.json()["errors"][0]["extensions"]["reason"] == "TOO_DEEP"
    broken = await client.get("/graphql", params={"query": "{ viewer { id } }",
                                                  "variables": "{"})  # fmt: skip
    assert_refused(broken, 400, "BAD_USER_INPUT", "INVALID_JSON")


async def test_a_long_string_literal_is_refused(client, app, no_tracebacks):
    await seed_demo_accounts(app.state.store.db)
    literal = "x" * 20_001
    query = f'mutation {{ updateMyProfile(input: {{firstName: "{literal}", lastName: "N", ' \
            'postalCode: "8000"}) { firstName } }'  # fmt: skip
    result = await gql(client, query, token=TOKEN)
    assert error_codes(result) == ["BAD_USER_INPUT"]
    assert result["errors"][0]["extensions"]["reason"] == "STRING_TOO_LONG"
    assert result["errors"][0]["message"] == "En tekst i query er for lang (højst 20000 tegn)."
    citizen = await app.state.store.db[c.CITIZENS].find_one({"_id": DEMO_CITIZEN_ID})
    assert literal not in json.dumps(citizen, default=str)


async def test_a_lone_surrogate_in_the_document_is_a_parse_error(client, no_tracebacks):
    body = b'{"query": "{ viewer { id \\ud800 } }"}'
    response = await client.post("/graphql", content=body, headers={**JSON, **AUTH})
    assert response.status_code == 200
    assert error_codes(response.json()) == ["GRAPHQL_PARSE_FAILED"]


# --- the document caches -------------------------------------------------------------------------
def _big_document(i: int, chars: int = 12_000) -> str:
    """A unique document longer than cached_document_max_chars (a comment pads it)."""
    return f"# {'p' * chars}\n{{ viewer {{ id v{i}: role }} }}"


async def test_large_unique_documents_do_not_grow_the_caches(client, app):
    limits = app.state.document_limits
    await gql(client, "{ viewer { id } }", token=TOKEN)  # a small one is kept
    parsed, validated = len(limits.parsed), len(limits.validated)
    assert parsed >= 1 and validated >= 1
    for i in range(40):
        result = await gql(client, _big_document(i), token=TOKEN)
        assert result["data"]["viewer"]["id"] == DEMO_CITIZEN_ID
    assert (len(limits.parsed), len(limits.validated)) == (parsed, validated)
    # nor does the APQ store learn them
    document = _big_document(99)
    sha = sha256_hex(document)
    extensions = {"persistedQuery": {"version": 1, "sha256Hash": sha}}
    sent = await client.post("/graphql", json={"query": document, "extensions": extensions},
                             headers=AUTH)  # fmt: skip
    assert sent.json()["data"]["viewer"]["id"] == DEMO_CITIZEN_ID
    by_hash = await client.post("/graphql", json={"extensions": extensions}, headers=AUTH)
    assert error_codes(by_hash.json()) == ["PERSISTED_QUERY_NOT_FOUND"]


async def test_registered_documents_are_cached_whatever_their_length(settings, shared_engine,
                                                                     sync_db):  # fmt: skip
    from api.app import create_app

    shared_engine.ready = False
    app = create_app(settings.model_copy(update={"cached_document_max_chars": 10}),
                     engine=shared_engine)  # fmt: skip
    viewer = (CONTRACT_DIR / "operations" / "Viewer.graphql").read_text(encoding="utf-8")
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            limits = app.state.document_limits
            await http.post("/graphql", json={"query": "{ viewer { id } }"}, headers=AUTH)
            assert len(limits.parsed) == 0  # 17 characters: longer than 10
            await http.post("/graphql", json={"query": viewer}, headers=AUTH)
            assert list(limits.parsed) == [viewer] and list(limits.validated) == [viewer]


ODD_BODIES = {
    "operationName a number": {"query": "{ viewer { id } }", "operationName": 5},
    "an empty query": {"query": ""},
    "extensions a list": {"query": "{ viewer { id } }", "extensions": []},
    "an Int variable of 31 digits": {
        "query": "query($n: Int) { recommendedJobs(first: $n) { edges { cursor } } }",
        "variables": {"n": 10**30},
    },
    "an Int literal of 20 digits": {
        "query": "{ recommendedJobs(first: 99999999999999999999) { edges { cursor } } }"
    },
    "a spread of an unknown fragment": {"query": "{ viewer { ...Missing } }"},
    "a fragment spreading itself": {"query": "fragment F on Viewer { ...F } { viewer { ...F } }"},
    "two operations of one name": {"query": "query A { viewer { id } } query A { viewer { id } }"},
    "a lone surrogate in an APQ hash": {
        "query": "{ viewer { id } }",
        "extensions": {"persistedQuery": {"version": 1, "sha256Hash": "\ud800" * 64}},
    },
}


@pytest.mark.parametrize("name", list(ODD_BODIES))
async def test_odd_requests_answer_with_a_code(client, name, no_tracebacks):
    body = json.dumps(ODD_BODIES[name]).encode()
    response = await client.post("/graphql", content=body, headers={**JSON, **AUTH})
    assert response.status_code in (200, 400), response.text
    assert response.headers["content-type"].startswith("application/json")
    codes = error_codes(response.json())
    assert codes and None not in codes and "INTERNAL_SERVER_ERROR" not in codes, response.text
