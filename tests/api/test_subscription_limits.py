"""Issue 16, M4: a subscription socket lives no longer than its token, re-checks its account,
and is capped (subscriptions per socket, sockets per account).

Before: the token was checked only when the socket opened (a 4 s token's heartbeats kept
coming for 12 s+, and a subscription started after expiry still got events) and one socket
took 200 subscriptions. The close codes and reasons are the contract (mobile_contract/README).
"""

from __future__ import annotations

import asyncio
import json
import time

import pytest
import websockets
from fastapi.testclient import TestClient

from api.auth.actor import Role
from seed.demo import DEMO_CITIZEN_ID, DEMO_COMPANY_CVR, DEMO_EMPLOYER_ID
from tests.conftest import receive_json_within, serve_in_thread, token_for

HEARTBEAT = "subscription { heartbeat(intervalSeconds: 5) { at viewerId } }"
PROTOCOL = ["graphql-transport-ws"]
MAX_SUBSCRIPTIONS = 10
MAX_CONNECTIONS = 2
RECHECK_S = 0.5


@pytest.fixture
def settings(settings):
    return settings.model_copy(
        update={
            "max_subscriptions_per_connection": MAX_SUBSCRIPTIONS,
            "max_connections_per_user": MAX_CONNECTIONS,
            "subscription_auth_recheck_s": RECHECK_S,
        }
    )


@pytest.fixture
def ws_client(app, sync_db):
    with TestClient(app) as client:
        yield client


def expiry(token: str) -> float:
    import jwt

    return jwt.decode(token, options={"verify_signature": False})["exp"]


def open_socket(ws, token: str) -> None:
    ws.send_json({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}})
    assert receive_json_within(ws, 10)["type"] == "connection_ack"


def close_code(ws, within_s: float) -> tuple[int, str | None, list[dict]]:
    """Read until the server closes; the code, the reason and what came before."""
    import anyio

    came: list[dict] = []
    deadline = time.monotonic() + within_s

    async def receive(seconds: float) -> dict:
        with anyio.fail_after(seconds):
            return await ws._send_rx.receive()

    while True:
        left = deadline - time.monotonic()
        assert left > 0, f"no close within {within_s} s; got {came}"
        message = ws.portal.call(receive, left)
        if message["type"] == "websocket.close":
            return message["code"], message.get("reason"), came
        came.append(json.loads(message["text"]))


# --- the token's expiry ---------------------------------------------------------------------
async def test_a_socket_closes_at_its_tokens_expiry_on_a_real_server(app, sync_db):
    """On uvicorn with a real websocket: the heartbeat subscription of a 4 s token ends with
    close 4403 TOKEN_EXPIRED within a second of its exp, and nothing comes after."""
    token = token_for(DEMO_CITIZEN_ID, ttl_s=4)
    exp = expiry(token)
    with serve_in_thread(app, ws="websockets-sansio") as port:
        async with websockets.connect(f"ws://127.0.0.1:{port}/graphql", subprotocols=PROTOCOL,
                                      close_timeout=2) as ws:  # fmt: skip
            await ws.send(json.dumps({"type": "connection_init",
                                      "payload": {"authorization": f"Bearer {token}"}}))  # fmt: skip
            assert json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] == "connection_ack"
            await ws.send(json.dumps({"id": "1", "type": "subscribe",
                                      "payload": {"query": HEARTBEAT}}))  # fmt: skip
            first = json.loads(await asyncio.wait_for(ws.recv(), 10))
            assert first["type"] == "next"
            assert first["payload"]["data"]["heartbeat"]["viewerId"] == DEMO_CITIZEN_ID
            after: list[dict] = []
            with pytest.raises(websockets.ConnectionClosed) as closed:
                while True:
                    after.append(json.loads(await asyncio.wait_for(ws.recv(), 10)))
            closed_at = time.time()
        assert after == []  # no heartbeat after the first one, none after the expiry
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 4403 and closed.value.rcvd.reason == "TOKEN_EXPIRED"
        assert exp - 0.05 <= closed_at <= exp + 1.0, (closed_at, exp)
        # The server let go of the socket: it no longer counts for the account, so the
        # account's full allowance of sockets opens again.
        fresh = token_for(DEMO_CITIZEN_ID)
        for _ in range(MAX_CONNECTIONS):
            async with websockets.connect(
                f"ws://127.0.0.1:{port}/graphql", subprotocols=PROTOCOL
            ) as again:
                init = {"type": "connection_init", "payload": {"authorization": fresh}}
                await again.send(json.dumps(init))
                assert json.loads(await asyncio.wait_for(again.recv(), 10))["type"] == (
                    "connection_ack"
                )


def test_a_subscribe_after_expiry_gets_nothing(ws_client):
    token = token_for(DEMO_CITIZEN_ID, ttl_s=2)
    with ws_client.websocket_connect("/graphql", subprotocols=PROTOCOL) as ws:
        open_socket(ws, token)
        time.sleep(max(expiry(token) - time.time(), 0) + 0.3)
        ws.send_json({"id": "late", "type": "subscribe", "payload": {"query": HEARTBEAT}})
        code, reason, came = close_code(ws, 3)
    assert (code, reason) == (4403, "TOKEN_EXPIRED")
    assert came == []  # no "next" for the late subscription


def test_an_expired_token_is_refused_at_connection_init_with_its_reason(ws_client):
    with ws_client.websocket_connect("/graphql", subprotocols=PROTOCOL) as ws:
        token = token_for(DEMO_CITIZEN_ID, ttl_s=-5)
        ws.send_json({"type": "connection_init", "payload": {"authorization": token}})
        code, reason, came = close_code(ws, 5)
    assert (code, reason, came) == (4403, "TOKEN_EXPIRED", [])


# --- rechecks: an erased account --------------------------------------------------------------
def test_an_erased_accounts_socket_closes_at_the_next_recheck(ws_client, sync_db):
    citizen = f"slettes-{time.time_ns()}"
    token = token_for(citizen, ttl_s=3600)
    auth = {"Authorization": f"Bearer {token}"}
    profile = ('mutation { updateMyProfile(input: {firstName: "Ida", lastName: "Lund", '
               'postalCode: "8000"}) { id } }')  # fmt: skip
    assert ws_client.post("/graphql", json={"query": profile}, headers=auth).json()["data"]
    with ws_client.websocket_connect("/graphql", subprotocols=PROTOCOL) as ws:
        open_socket(ws, token)
        ws.send_json({"id": "1", "type": "subscribe", "payload": {"query": HEARTBEAT}})
        assert receive_json_within(ws, 10)["type"] == "next"
        time.sleep(RECHECK_S * 2)  # a recheck or two pass: the account is fine, it stays open
        ws.send_json({"type": "ping"})
        assert receive_json_within(ws, 5)["type"] == "pong"
        erase = "mutation { deleteMyAccount(confirm: true) { recordsErased } }"
        erased = ws_client.post("/graphql", json={"query": erase}, headers=auth).json()
        assert erased["data"]["deleteMyAccount"]["recordsErased"] >= 1
        erased_at = time.monotonic()
        code, reason, came = close_code(ws, RECHECK_S + 2)
    assert (code, reason) == (4403, "ACCOUNT_DELETED")
    assert time.monotonic() - erased_at <= RECHECK_S + 1.5
    assert [m["type"] for m in came] in ([], ["next"])  # at most a heartbeat in flight


# --- caps ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("language", "message"),
    [
        (None, "Der kører allerede 10 abonnementer på forbindelsen. Stop et af dem, før du "
               "starter et nyt."),
        ("en", "10 subscriptions are already running on this connection. Stop one before "
               "starting another."),
    ],
)  # fmt: skip
def test_the_eleventh_subscription_is_refused_and_the_socket_stays_open(
    ws_client, language, message
):
    headers = {"Accept-Language": language} if language else {}
    with ws_client.websocket_connect("/graphql", subprotocols=PROTOCOL, headers=headers) as ws:
        open_socket(ws, token_for(DEMO_CITIZEN_ID))
        for i in range(MAX_SUBSCRIPTIONS):
            ws.send_json({"id": f"s{i}", "type": "subscribe", "payload": {"query": HEARTBEAT}})
            got = receive_json_within(ws, 10)
            assert (got["type"], got["id"]) == ("next", f"s{i}")
        ws.send_json({"id": "s10", "type": "subscribe", "payload": {"query": HEARTBEAT}})
        refused = receive_json_within(ws, 10)
        assert (refused["type"], refused["id"]) == ("error", "s10")
        [error] = refused["payload"]
        assert error["message"] == message
        assert error["extensions"]["code"] == "RATE_LIMITED"
        assert error["extensions"]["reason"] == "TOO_MANY_SUBSCRIPTIONS"
        assert error["extensions"]["limit"] == MAX_SUBSCRIPTIONS
        assert error["extensions"]["requestId"]
        # Still open: ping works, and ending one subscription makes room for another.
        ws.send_json({"type": "ping"})
        assert receive_json_within(ws, 5)["type"] == "pong"
        ws.send_json({"id": "s0", "type": "complete"})
        ws.send_json({"id": "s11", "type": "subscribe", "payload": {"query": HEARTBEAT}})
        got = receive_json_within(ws, 10)
        assert (got["type"], got["id"]) == ("next", "s11")


def test_a_socket_beyond_the_accounts_limit_is_closed_with_4429(ws_client):
    citizen = token_for(DEMO_CITIZEN_ID)
    connect = ws_client.websocket_connect
    with (
        connect("/graphql", subprotocols=PROTOCOL) as one,
        connect("/graphql", subprotocols=PROTOCOL) as two,
    ):
        open_socket(one, citizen)
        open_socket(two, token_for(DEMO_CITIZEN_ID))  # another token of the same account
        with connect("/graphql", subprotocols=PROTOCOL) as third:
            third.send_json({"type": "connection_init", "payload": {"authorization": citizen}})
            code, reason, came = close_code(third, 5)
        assert (code, reason, came) == (4429, "TOO_MANY_CONNECTIONS", [])  # no ack
        # Another account is not affected, and the first two still work.
        with connect("/graphql", subprotocols=PROTOCOL) as other:
            open_socket(other, token_for(f"anden-{time.time_ns()}"))
        for ws in (one, two):
            ws.send_json({"type": "ping"})
            assert receive_json_within(ws, 5)["type"] == "pong"
    # Both closed: the account may open sockets again.
    with connect("/graphql", subprotocols=PROTOCOL) as again:
        open_socket(again, citizen)


def test_the_limits_are_settings(app, sync_db, settings):
    """The defaults a production app runs with."""
    from core.settings import Settings

    defaults = Settings(mode="local")
    assert defaults.max_subscriptions_per_connection == 10
    assert defaults.max_connections_per_user == 5
    assert defaults.subscription_auth_recheck_s == 60.0
    assert settings.max_connections_per_user == MAX_CONNECTIONS


def test_an_employer_socket_closes_at_expiry_too(ws_client):
    """Employers (the role with a cvr claim) follow the same rule."""
    token = token_for(DEMO_EMPLOYER_ID, Role.EMPLOYER, DEMO_COMPANY_CVR, ttl_s=2)
    with ws_client.websocket_connect("/graphql", subprotocols=PROTOCOL) as ws:
        open_socket(ws, token)
        ws.send_json({"id": "1", "type": "subscribe", "payload": {"query": HEARTBEAT}})
        assert receive_json_within(ws, 10)["type"] == "next"
        code, reason, _ = close_code(ws, 4)
        closed_at = time.time()
    assert (code, reason) == (4403, "TOKEN_EXPIRED")
    assert closed_at <= expiry(token) + 1.0
