"""Persisted operations and Automatic Persisted Queries (APQ) by one rule on HTTP POST, HTTP
GET and the graphql-transport-ws socket, in open and persisted-only mode; and the wire format
as a standard client (gql 4) sends it, against the real server on a socket."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient
from gql import Client, GraphQLRequest
from gql.transport.exceptions import TransportQueryError
from gql.transport.httpx import HTTPXAsyncTransport
from gql.transport.websockets import WebsocketsTransport
from graphql import parse, print_ast

from api.app import create_app
from api.persisted import MANIFEST_PATH, PersistedQueries, sha256_hex
from notifications.inbox import Text, notify
from seed.demo import DEMO_CITIZEN_ID, seed_demo_accounts
from store.client import Store
from tests.conftest import error_codes, receive_json_within, serve_in_thread, token_for

# The registered operations, as the server loads them (mobile_contract/persisted-queries.json).
MANIFEST = {
    entry["file"]: entry["document"]
    for entry in json.loads(MANIFEST_PATH.read_text(encoding="utf-8"))["operations"]
}
VIEWER = MANIFEST["Viewer.graphql"]
HEARTBEAT = MANIFEST["Heartbeat.graphql"]
NOTIFICATION_ADDED = MANIFEST["NotificationAdded.graphql"]
UNREGISTERED = {
    "query": "{ viewer { id } }",
    "mutation": "mutation { markAllNotificationsRead }",
    "introspection": "{ __schema { types { name } } }",
}
AUTH = {"Authorization": f"Bearer {token_for(DEMO_CITIZEN_ID)}"}


def apq(sha: str) -> dict:
    return {"persistedQuery": {"version": 1, "sha256Hash": sha}}


def as_apollo_sends(document: str) -> str:
    """The operation as Apollo's clients send it: re-printed, ``__typename`` in every
    selection set below the operation's root (so its hash is not the file's)."""
    lines = []
    for line in print_ast(parse(document)).splitlines():
        lines.append(line)
        if line.endswith("{") and line.startswith("  "):
            lines.append(line[: len(line) - len(line.lstrip())] + "  __typename")
    return "\n".join(lines)


def assert_not_found(body: dict) -> None:
    assert body["data"] is None
    assert body["errors"][0]["message"] == "PersistedQueryNotFound"
    assert body["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"


@pytest.fixture
def persisted_only(settings):
    return settings.model_copy(update={"persisted_queries_only": True, "graphiql": False})


@pytest.fixture
def strict_app(persisted_only, shared_engine, sync_db):
    shared_engine.ready = False
    return create_app(persisted_only, engine=shared_engine)


@pytest.fixture
async def strict_client(strict_app):
    async with strict_app.router.lifespan_context(strict_app):
        await seed_demo_accounts(strict_app.state.store.db)
        transport = httpx.ASGITransport(app=strict_app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            yield c


# --- HTTP --------------------------------------------------------------------------------------
async def test_hash_only_runs_a_registered_operation_on_post_and_get(strict_client):
    for sha in (sha256_hex(VIEWER), sha256_hex(print_ast(parse(VIEWER)))):
        post = await strict_client.post("/graphql", json={"extensions": apq(sha)}, headers=AUTH)
        # GET as Apollo Kotlin sends it with useGetMethodForPersistedQueries, and with a plain
        # "Accept: */*": an operation, not a request for GraphiQL (which is off here: 404).
        get = await strict_client.get(
            "/graphql",
            params={"extensions": json.dumps(apq(sha)), "operationName": "Viewer"},
            headers={**AUTH, "Accept": "*/*"},
        )
        for response in (post, get):
            assert response.status_code == 200, response.text
            assert response.json()["data"]["viewer"]["id"] == DEMO_CITIZEN_ID


async def test_unknown_hash_answers_persisted_query_not_found(strict_client):
    await _answers_not_found(strict_client)


async def test_unknown_hash_answers_persisted_query_not_found_in_open_mode(client):
    await _answers_not_found(client)


async def _answers_not_found(http: httpx.AsyncClient) -> None:
    post = await http.post("/graphql", json={"extensions": apq("0" * 64)})
    get = await http.get("/graphql", params={"extensions": json.dumps(apq("0" * 64))})
    for response in (post, get):
        assert response.status_code == 200, response.text
        assert_not_found(response.json())
    detail = post.json()["errors"][0]["extensions"]["detail"]
    assert "sha256Hash" in detail


async def test_apq_handshake_registers_a_client_formatted_operation(strict_client):
    """Apollo's flow: hash only, PersistedQueryNotFound, then hash and text; afterwards the
    hash alone runs. The text differs from the file (``__typename``, layout) but is the same
    registered operation, so persisted-only mode accepts it."""
    text = as_apollo_sends(VIEWER)
    assert "__typename" in text and sha256_hex(text) != sha256_hex(VIEWER)
    first = await strict_client.post("/graphql", json={"extensions": apq(sha256_hex(text))})
    assert_not_found(first.json())
    second = await strict_client.post(
        "/graphql", json={"query": text, "extensions": apq(sha256_hex(text))}, headers=AUTH
    )
    assert second.json()["data"]["viewer"]["__typename"] == "Viewer"
    third = await strict_client.post(
        "/graphql", json={"extensions": apq(sha256_hex(text))}, headers=AUTH
    )
    assert third.json()["data"]["viewer"]["id"] == DEMO_CITIZEN_ID


@pytest.mark.parametrize("kind", sorted(UNREGISTERED))
async def test_persisted_only_refuses_text_that_is_not_registered(kind, strict_client):
    text = UNREGISTERED[kind]
    for body in ({"query": text}, {"query": text, "extensions": apq(sha256_hex(text))}):
        response = await strict_client.post("/graphql", json=body, headers=AUTH)
        assert response.status_code == 200
        assert error_codes(response.json()) == ["PERSISTED_QUERY_REQUIRED"]
        assert response.json()["data"] is None
    # A hash once sent with refused text is not remembered either.
    again = await strict_client.post("/graphql", json={"extensions": apq(sha256_hex(text))})
    assert_not_found(again.json())


async def test_open_mode_runs_any_text_and_remembers_its_hash(client):
    text = UNREGISTERED["introspection"]
    with_text = await client.post(
        "/graphql", json={"query": text, "extensions": apq(sha256_hex(text))}
    )
    assert with_text.json()["data"]["__schema"]["types"]
    hash_only = await client.post("/graphql", json={"extensions": apq(sha256_hex(text))})
    assert hash_only.json()["data"]["__schema"]["types"]


async def test_malformed_persisted_query_extension_is_bad_user_input(client):
    for pq in ({"version": 2, "sha256Hash": sha256_hex(VIEWER)}, {"version": 1}, "x"):
        response = await client.post("/graphql", json={"extensions": {"persistedQuery": pq}})
        assert response.status_code == 200
        assert error_codes(response.json()) == ["BAD_USER_INPUT"]
    mismatch = await client.post(
        "/graphql", json={"query": VIEWER, "extensions": apq("1" * 64)}, headers=AUTH
    )
    assert error_codes(mismatch.json()) == ["BAD_USER_INPUT"]


def test_manifest_knows_each_operation_as_clients_print_it():
    persisted = PersistedQueries.load()
    assert len(persisted) == len(MANIFEST)
    for name, text in sorted(MANIFEST.items()):
        assert persisted.get(sha256_hex(text)) == text, name
        printed = print_ast(parse(text))
        assert persisted.get(sha256_hex(printed)) is not None, name
        assert persisted.knows(as_apollo_sends(text)), name
    assert not persisted.knows("{ viewer { id } }")
    assert not persisted.knows("{ viewer { ")


# --- websocket ---------------------------------------------------------------------------------
def _subscribe(ws, op_id: str, payload: dict) -> list[dict]:
    """Send ``subscribe``; the messages for ``op_id`` up to ``complete`` or the first result."""
    ws.send_json({"id": op_id, "type": "subscribe", "payload": payload})
    got = []
    while True:
        message = receive_json_within(ws)
        assert message.get("id") == op_id, message
        got.append(message)
        if message["type"] in ("complete", "error") or (
            message["type"] == "next" and not message["payload"].get("errors")
        ):
            return got


def _connected(tc: TestClient):
    ws = tc.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"])
    session = ws.__enter__()
    session.send_json(
        {"type": "connection_init", "payload": {"authorization": AUTH["Authorization"]}}
    )
    assert receive_json_within(session)["type"] == "connection_ack"
    return ws, session


def test_persisted_only_socket_refuses_what_http_refuses_and_runs_hash_only(strict_app):
    with TestClient(strict_app) as tc:
        ws, session = _connected(tc)
        try:
            for i, kind in enumerate(sorted(UNREGISTERED)):
                got = _subscribe(session, f"u{i}", {"query": UNREGISTERED[kind]})
                assert [m["type"] for m in got] == ["next", "complete"], (kind, got)
                assert got[0]["payload"]["data"] is None
                codes = [e["extensions"]["code"] for e in got[0]["payload"]["errors"]]
                assert codes == ["PERSISTED_QUERY_REQUIRED"], kind
            unknown = _subscribe(session, "x", {"extensions": apq("0" * 64)})
            assert [m["type"] for m in unknown] == ["next", "complete"]
            assert_not_found(unknown[0]["payload"])
            # The socket is still open: a hash-only subscription runs (it used to close 4400).
            beat = _subscribe(
                session,
                "hb",
                {"extensions": apq(sha256_hex(HEARTBEAT)), "variables": {"intervalSeconds": 5}},
            )
            assert beat[-1]["type"] == "next"
            assert beat[-1]["payload"]["data"]["heartbeat"]["viewerId"] == DEMO_CITIZEN_ID
            # A registered operation's text is accepted too (HTTP does the same).
            session.send_json({"id": "hb", "type": "complete"})
            text = _subscribe(
                session, "hb2", {"query": HEARTBEAT, "variables": {"intervalSeconds": 5}}
            )
            assert text[-1]["payload"]["data"]["heartbeat"]["viewerId"] == DEMO_CITIZEN_ID
        finally:
            ws.__exit__(None, None, None)


def test_open_mode_socket_runs_a_hash_only_subscription(app, sync_db):
    with TestClient(app) as tc:
        ws, session = _connected(tc)
        try:
            beat = _subscribe(session, "1", {"extensions": apq(sha256_hex(HEARTBEAT)),
                                             "variables": {"intervalSeconds": 5}})  # fmt: skip
            assert beat[-1]["payload"]["data"]["heartbeat"]["viewerId"] == DEMO_CITIZEN_ID
        finally:
            ws.__exit__(None, None, None)


# --- a standard client over a real socket ---------------------------------------------------------
class PersistedRequest(GraphQLRequest):
    """What an APQ client sends first: the hash of its own printed text, and no text."""

    def __init__(self, request: GraphQLRequest, *, with_text: bool) -> None:
        sha = sha256_hex(print_ast(request.document))
        super().__init__(request, extensions=apq(sha))
        self.with_text = with_text

    @property
    def payload(self) -> dict:
        payload = super().payload
        if not self.with_text:
            del payload["query"]
        return payload


def _not_found(error: TransportQueryError) -> bool:
    return any(e.get("message") == "PersistedQueryNotFound" for e in error.errors or [])


async def execute_apq(session, request: GraphQLRequest) -> tuple[dict, int]:
    """Apollo's persisted-query link with gql: hash only; on PersistedQueryNotFound, again with
    the text. Returns the data and how many requests it took."""
    try:
        return await session.execute(PersistedRequest(request, with_text=False)), 1
    except TransportQueryError as e:
        if not _not_found(e):
            raise
    return await session.execute(PersistedRequest(request, with_text=True)), 2


async def first_apq_event(session, request: GraphQLRequest) -> tuple[dict, int]:
    for attempt, with_text in ((1, False), (2, True)):
        try:
            async for result in session.subscribe(PersistedRequest(request, with_text=with_text)):
                return result, attempt
        except TransportQueryError as e:
            if not _not_found(e) or with_text:
                raise
    raise AssertionError("the subscription ended without an event")


@pytest.fixture
def live_server(strict_app) -> Iterator[str]:
    """The persisted-only app on a real socket, as gql needs."""
    with serve_in_thread(strict_app, ws="websockets-sansio") as port:
        yield f"127.0.0.1:{port}"


async def test_gql_client_sends_apq_for_a_query_and_a_subscription(live_server, settings):
    store = Store(settings.effective_mongodb_uri, settings.database_name)
    await seed_demo_accounts(store.db)
    http = HTTPXAsyncTransport(url=f"http://{live_server}/graphql", headers=AUTH)
    async with Client(transport=http) as session:
        viewer, tries = await execute_apq(session, GraphQLRequest(VIEWER))
        assert viewer["viewer"]["role"] == "CITIZEN" and tries == 1  # gql's print is known
        apollo_text = as_apollo_sends(VIEWER)
        viewer, tries = await execute_apq(session, GraphQLRequest(apollo_text))
        assert viewer["viewer"]["__typename"] == "Viewer" and tries == 2  # the handshake
        with pytest.raises(TransportQueryError) as refused:
            await session.execute(GraphQLRequest(UNREGISTERED["introspection"]))
        assert refused.value.errors[0]["extensions"]["code"] == "PERSISTED_QUERY_REQUIRED"

    ws = WebsocketsTransport(
        url=f"ws://{live_server}/graphql",
        subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
        init_payload={"authorization": AUTH["Authorization"]},
    )
    async with Client(transport=ws) as session:
        beat = GraphQLRequest(HEARTBEAT, variable_values={"intervalSeconds": 5})
        event, tries = await asyncio.wait_for(first_apq_event(session, beat), 20)
        assert event["heartbeat"]["viewerId"] == DEMO_CITIZEN_ID and tries == 1
        # As Apollo sends it: unknown hash, then text and hash; then a notice arrives live.
        added = GraphQLRequest(as_apollo_sends(NOTIFICATION_ADDED))
        waiting = asyncio.ensure_future(first_apq_event(session, added))
        await asyncio.sleep(1.0)
        assert not waiting.done(), waiting.result()
        await notify(store.db, recipient_id=DEMO_CITIZEN_ID, recipient_role="citizen",
                     category="MEETINGS", key="apq-test", text=Text("Titel", "Tekst", "T", "B"),
                     route="/meetings", payload_type="meeting-update")  # fmt: skip
        event, tries = await asyncio.wait_for(waiting, 20)
        assert event["notificationAdded"]["title"] == "Titel" and tries == 2
        with pytest.raises(TransportQueryError) as refused:
            async for _ in session.subscribe(GraphQLRequest(UNREGISTERED["query"])):
                pass
        assert refused.value.errors[0]["extensions"]["code"] == "PERSISTED_QUERY_REQUIRED"
    await store.close()
