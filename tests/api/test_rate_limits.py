"""Issue 16, M5: token buckets by query cost (api/ratelimit.py), one per signed-in user and one
per client address for unsigned requests; RATE_LIMITED with HTTP 429, Retry-After and
``extensions.retryAfter``. A normal app session never meets a limit."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from graphql import OperationDefinitionNode, parse

from api.auth.actor import Role
from api.persisted import CONTRACT_DIR
from api.ratelimit import UNSIGNED_REQUEST_POINTS, TokenBuckets, address_key
from seed.demo import DEMO_CITIZEN_ID, DEMO_COMPANY_CVR, DEMO_EMPLOYER_ID, seed_demo_accounts
from store import collections as c
from tests.conftest import error_codes, token_for

CITIZEN = token_for(DEMO_CITIZEN_ID)
EMPLOYER = token_for(DEMO_EMPLOYER_ID, Role.EMPLOYER, DEMO_COMPANY_CVR)


async def post(client: httpx.AsyncClient, query: str, token: str | None = None,
               variables: dict | None = None, **headers: str) -> httpx.Response:  # fmt: skip
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return await client.post("/graphql", json={"query": query, "variables": variables or {}},
                             headers=headers)  # fmt: skip


def assert_rate_limited(response: httpx.Response) -> dict:
    assert response.status_code == 429, response.text
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "RATE_LIMITED"
    retry_after = error["extensions"]["retryAfter"]
    assert isinstance(retry_after, int) and retry_after >= 1
    assert response.headers["Retry-After"] == str(retry_after)
    assert error["extensions"]["requestId"] == response.headers["x-request-id"]
    return error


async def test_300_unsigned_requests_in_a_burst_are_limited(client):
    codes = []
    for _ in range(300):
        response = await post(client, "{ viewer { id } }")
        codes.append(response.json()["errors"][0]["extensions"]["code"])
        if response.status_code == 429:
            error = assert_rate_limited(response)
    assert codes[0] == "UNAUTHENTICATED"
    assert 100 < codes.index("RATE_LIMITED") < 300
    assert set(codes) == {"UNAUTHENTICATED", "RATE_LIMITED"}
    assert error["message"] == (
        f"Du har sendt for mange forespørgsler. Prøv igen om "
        f"{error['extensions']['retryAfter']} sekunder."
    )
    en = await post(client, "{ viewer { id } }", **{"Accept-Language": "en"})
    assert assert_rate_limited(en)["message"].startswith("You have sent too many requests.")


async def test_the_address_bucket_refills(client, app):
    buckets = app.state.document_limits.rate_limiter.addresses
    now = [0.0]
    buckets.clock = lambda: now[0]
    buckets.drain(address_key("127.0.0.1"), buckets.capacity)
    response = await post(client, "{ viewer { id } }")
    retry_after = assert_rate_limited(response)["extensions"]["retryAfter"]
    assert retry_after == 1  # 50 points a second: a cheap request waits a second at most
    now[0] += retry_after
    assert error_codes((await post(client, "{ viewer { id } }")).json()) == ["UNAUTHENTICATED"]


def _app_operations() -> list[tuple[str, str]]:
    out = []
    for path in sorted((CONTRACT_DIR / "operations").glob("*.graphql")):
        document = path.read_text(encoding="utf-8")
        kinds = [d.operation.value for d in parse(document).definitions
                 if isinstance(d, OperationDefinitionNode)]  # fmt: skip
        if kinds != ["subscription"] and path.stem != "DeleteMyAccount":  # ends the session
            out.append((Path(path).stem, document))
    return out


async def test_a_normal_app_session_never_hits_a_limit(client, app):
    """A citizen and an employer each send every query and mutation of the app three times
    in a row, far faster than anyone taps (variables left out: the answers may be errors,
    but never RATE_LIMITED)."""
    await seed_demo_accounts(app.state.store.db)
    seen: list[str | None] = []
    for token in (CITIZEN, EMPLOYER):
        for _ in range(3):
            for _name, document in _app_operations():
                response = await post(client, document, token)
                assert response.status_code == 200, response.text
                seen.extend(error_codes(response.json()))
    assert "RATE_LIMITED" not in seen and "QUERY_TOO_COMPLEX" not in seen
    assert len(_app_operations()) > 70
    users = app.state.document_limits.rate_limiter.users
    left = {key: round(b.points) for key, b in users._buckets.items()}
    print("points left after the session:", left, "of", users.capacity)
    assert set(left) == {f"user:{DEMO_CITIZEN_ID}", f"user:{DEMO_EMPLOYER_ID}"}
    assert min(left.values()) > users.capacity / 2  # well within the allowance


async def test_signed_in_users_behind_one_address_are_not_limited(client):
    """A job centre's network: 40 citizens behind one address, 8 requests each (320 in a
    burst, more than an unsigned address may send), none refused."""
    for i in range(40):
        token = token_for(f"borger-{i}")
        for _ in range(8):
            response = await post(client, "{ viewer { id } }", token)
            assert response.status_code == 200
            assert response.json() == {"data": {"viewer": {"id": f"borger-{i}"}}}


async def test_fifteen_aliases_cost_far_more_points_than_one(client, app):
    users = app.state.document_limits.rate_limiter.users
    users.clock = lambda: 0.0  # no refill while measuring
    one = "recommendedJobs(first: 50) { edges { node { posting { id title } } } }"

    async def points_for(document: str, user: str) -> float:
        await post(client, document, token_for(user))
        return users.capacity - users._bucket(f"user:{user}").points

    single = await points_for(f"{{ {one} }}", "a")
    fifteen = await points_for("{ " + " ".join(f"r{i}: {one}" for i in range(15)) + " }", "b")
    assert single >= 200 and fifteen == 15 * single


async def test_a_user_over_the_limit_is_refused_and_nothing_is_written(client, app):
    await seed_demo_accounts(app.state.store.db)
    users = app.state.document_limits.rate_limiter.users
    users.clock = lambda: 0.0
    users.drain(f"user:{DEMO_CITIZEN_ID}", users.capacity)
    response = await post(
        client,
        'mutation { saveJob(postingId: "p-1") { id } }',
        CITIZEN,
        **{"Accept-Language": "en"},
    )
    error = assert_rate_limited(response)
    assert error["message"].startswith("You have sent too many requests.")
    assert await app.state.store.db[c.SAVED_JOBS].count_documents({}) == 0
    # another user is not affected
    other = await post(client, "{ viewer { id } }", token_for("someone-else"))
    assert other.json() == {"data": {"viewer": {"id": "someone-else"}}}


async def test_refused_documents_drain_the_bucket(client):
    """A client that keeps sending too-complex documents is soon refused before they are
    even parsed."""
    h1 = "{ " + " ".join("viewer { id }" for _ in range(400)) + " }"
    codes = [error_codes((await post(client, h1)).json())[0] for _ in range(8)]
    assert codes[0] == "QUERY_TOO_COMPLEX"
    assert "RATE_LIMITED" in codes and codes.index("RATE_LIMITED") <= 6


# --- the buckets ---------------------------------------------------------------------------------
def test_a_bucket_takes_refills_and_says_how_long_to_wait():
    now = [0.0]
    buckets = TokenBuckets(100, 10, clock=lambda: now[0])
    assert buckets.take("k", 60) is None
    assert buckets.take("k", 60) == 2  # 40 left, 20 missing at 10 a second
    now[0] += 2
    assert buckets.take("k", 60) is None  # refilled to 60
    assert buckets.take("k", 1000) is not None  # never more than the bucket holds
    now[0] += 100
    assert buckets.take("k", 1000) is None  # ... which is all of it, once full
    assert buckets.take("other", 100) is None  # each key its own bucket


def test_buckets_are_bounded():
    buckets = TokenBuckets(10, 1, clock=lambda: 0.0, max_buckets=3)
    for key in "abcd":
        buckets.take(key, 5)
    assert len(buckets) == 3


@pytest.mark.parametrize(
    ("host", "key"),
    [
        ("203.0.113.7", "addr:203.0.113.7"),
        ("2001:db8:1:2:3:4:5:6", "addr:2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff::1", "addr:2001:db8:1:2::/64"),  # the same subscriber
        ("::ffff:203.0.113.7", "addr:203.0.113.7"),
        (None, "addr:-"),
    ],
)
def test_address_keys(host, key):
    assert address_key(host) == key


def test_an_unsigned_request_costs_a_fixed_price_plus_its_fields():
    from api.ratelimit import RateLimiter

    assert RateLimiter.price("addr:x", cost=5000, fields=3) == UNSIGNED_REQUEST_POINTS + 3
    assert RateLimiter.price("user:x", cost=0, fields=3) == 1
    assert RateLimiter.price("user:x", cost=700, fields=30) == 700


def test_a_subscribe_message_pays_from_the_users_bucket(app, sync_db):
    from fastapi.testclient import TestClient

    from tests.conftest import receive_json_within

    with TestClient(app) as http:
        users = app.state.document_limits.rate_limiter.users
        users.clock = lambda: 0.0
        with http.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"]) as ws:
            ws.send_json({"type": "connection_init",
                          "payload": {"authorization": f"Bearer {CITIZEN}"}})  # fmt: skip
            assert receive_json_within(ws, 10)["type"] == "connection_ack"
            heartbeat = "subscription { heartbeat(intervalSeconds: 5) { at } }"
            ws.send_json({"id": "1", "type": "subscribe", "payload": {"query": heartbeat}})
            assert receive_json_within(ws, 10)["type"] == "next"
            assert users._bucket(f"user:{DEMO_CITIZEN_ID}").points < users.capacity
            users.drain(f"user:{DEMO_CITIZEN_ID}", users.capacity)
            ws.send_json({"id": "2", "type": "subscribe", "payload": {"query": heartbeat}})
            answer = receive_json_within(ws, 10)
            assert (answer["type"], answer["id"]) == ("error", "2")
            assert answer["payload"][0]["extensions"]["code"] == "RATE_LIMITED"
            assert answer["payload"][0]["extensions"]["retryAfter"] >= 1
