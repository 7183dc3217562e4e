"""Subscriptions: graphql-transport-ws only, authenticated in connection_init."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from seed.demo import DEMO_CITIZEN_ID
from tests.conftest import token_for

SUB = "subscription { heartbeat(intervalSeconds: 5) { at viewerId } }"


@pytest.fixture
def ws_client(app, sync_db):
    with TestClient(app) as client:
        yield client


def test_authenticated_socket_receives_heartbeat(ws_client):
    with ws_client.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"]) as ws:
        ws.send_json(
            {
                "type": "connection_init",
                "payload": {"authorization": f"Bearer {token_for(DEMO_CITIZEN_ID)}"},
            }
        )
        assert ws.receive_json()["type"] == "connection_ack"
        ws.send_json({"id": "1", "type": "subscribe", "payload": {"query": SUB}})
        message = ws.receive_json()
        assert message["type"] == "next"
        assert message["payload"]["data"]["heartbeat"]["viewerId"] == DEMO_CITIZEN_ID
        ws.send_json({"id": "1", "type": "complete"})


def test_socket_without_token_is_closed(ws_client):
    with ws_client.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"]) as ws:
        ws.send_json({"type": "connection_init", "payload": {}})
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
        assert closed.value.code == 4403


def test_socket_with_expired_token_is_closed(ws_client):
    with ws_client.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"]) as ws:
        token = token_for(DEMO_CITIZEN_ID, ttl_s=-5)
        ws.send_json({"type": "connection_init", "payload": {"authorization": token}})
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
        assert closed.value.code == 4403


def test_legacy_graphql_ws_protocol_is_refused(ws_client):
    with (
        pytest.raises(WebSocketDisconnect),
        ws_client.websocket_connect("/graphql", subprotocols=["graphql-ws"]) as ws,
    ):
        ws.send_json({"type": "connection_init", "payload": {}})
        ws.receive_json()


def test_subscription_argument_is_validated(ws_client):
    with ws_client.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"]) as ws:
        ws.send_json(
            {"type": "connection_init", "payload": {"authorization": token_for(DEMO_CITIZEN_ID)}}
        )
        ws.receive_json()
        query = "subscription { heartbeat(intervalSeconds: 1) { at } }"
        ws.send_json({"id": "2", "type": "subscribe", "payload": {"query": query}})
        message = ws.receive_json()
        errors = message["payload"]["errors"] if message["type"] == "next" else message["payload"]
        assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"
        assert "mellem 5 og 300" in errors[0]["message"]
