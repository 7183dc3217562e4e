"""Live updates woken by the database's change stream: a committed change reaches the
subscriber in well under a poll interval, nothing raced or committed late is lost, nothing is
sent twice; where the database has no change streams (SecantusDB ``--standalone``, as a
standalone MongoDB), or the stream fails, subscriptions poll and still get everything."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api import live
from api.app import create_app
from api.meetings import repository as meetings
from notifications.inbox import Text, notify
from seed.demo import DEMO_CITIZEN_ID
from store.client import Store
from store.embedded import EmbeddedDatabase, free_port
from tests.conftest import receive_json_within, token_for

REQUESTS = meetings.CHANGING[meetings.ChangeKind.REQUEST]
MEETING_WATCH = live.Watch("citizenId", frozenset(meetings.CHANGING.values()))
SLOW_POLL = {"live_updates_poll_s": 30.0, "live_updates_idle_poll_s": 30.0}


def a_request_doc(citizen: str, status: str = "PENDING", at: datetime | None = None) -> dict:
    at = at or datetime.now(UTC)
    return {"_id": uuid.uuid4().hex, "citizenId": citizen, "companyCvr": "12345674",
            "offerId": f"offer-{uuid.uuid4().hex[:8]}", "status": status, "createdAt": at, "updatedAt": at}  # fmt: skip


async def woken_within(wait, seconds: float) -> bool:
    try:
        await asyncio.wait_for(wait(), seconds)
    except TimeoutError:
        return False
    return True


@pytest.fixture
async def store(settings) -> AsyncIterator[Store]:
    s = Store(settings.effective_mongodb_uri, settings.database_name)
    yield s
    await s.close()


@pytest.fixture(scope="module")
def standalone_server(tmp_path_factory) -> Iterator[EmbeddedDatabase]:
    """A server without change streams (what a standalone MongoDB answers: code 40573)."""
    root = tmp_path_factory.mktemp("standalone")
    server = EmbeddedDatabase(root / "db", port=free_port(), cache_size="128M", standalone=True)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def faulty_server(tmp_path_factory) -> Iterator[EmbeddedDatabase]:
    """A server that accepts fail points (configureFailPoint), for stream outages."""
    root = tmp_path_factory.mktemp("faulty")
    server = EmbeddedDatabase(root / "db", port=free_port(), cache_size="128M", test_commands=True)
    server.start()
    yield server
    server.stop()


def test_a_change_exactly_one_lookback_before_the_newest_is_not_sent_again():
    """Read often (as wake-ups do), a change stamped exactly ``lookback`` before the newest
    sits on the window's edge: re-read, it must be known as sent (it once went out twice)."""
    t0 = datetime(2026, 11, 23, 12, tzinfo=UTC)
    table = [{"_id": "a", "at": t0}, {"_id": "b", "at": t0 + timedelta(seconds=5)}]
    follow = live.Follower(t0 - timedelta(seconds=1), lookback_s=5)

    async def fetch(since: datetime, limit: int) -> list[dict]:
        return [d for d in table if d["at"] >= since][:limit]

    async def read() -> list[str]:
        sent = await live.poll(follow, fetch, key=lambda d: d["_id"], at="at")
        return [d["_id"] for d in sent]

    assert asyncio.run(read()) == ["a", "b"]
    assert asyncio.run(read()) == []  # since == a's time: a is re-read, and known


# --- the feed on its own ------------------------------------------------------------------------
async def test_a_write_to_the_watched_owner_wakes_at_once_and_others_do_not(store, settings):
    slow = settings.model_copy(update=SLOW_POLL)
    with live.changes(store.db, slow, MEETING_WATCH, "c1") as wait:
        assert await woken_within(wait, 5)  # the stream opened: read what raced it
        assert live.feed_state(store.db) is live.FeedState.LIVE
        await store.db[REQUESTS].insert_one(a_request_doc("c2"))  # someone else's
        await store.db["swipes"].insert_one({"citizenId": "c1"})  # not a watched collection
        assert not await woken_within(wait, 0.5)
        doc = a_request_doc("c1")
        started = time.perf_counter()
        await store.db[REQUESTS].insert_one(doc)
        assert await woken_within(wait, 2)
        inserted_s = time.perf_counter() - started
        started = time.perf_counter()
        await store.db[REQUESTS].update_one({"_id": doc["_id"]}, {"$set": {"status": "SEEN"}})
        assert await woken_within(wait, 2)
        updated_s = time.perf_counter() - started
    assert inserted_s < 0.5 and updated_s < 0.5, (inserted_s, updated_s)
    assert live.feed_state(store.db) is None  # the last subscription closed the feed


async def test_without_change_streams_the_subscription_polls(standalone_server, settings, caplog):
    polling = settings.model_copy(update={"live_updates_poll_s": 0.2})
    store = Store(standalone_server.uri, "live_standalone")
    caplog.set_level(logging.INFO, logger="api.live")
    try:
        with live.changes(store.db, polling, MEETING_WATCH, "c1") as wait:
            assert await woken_within(wait, 5)
            assert live.feed_state(store.db) is live.FeedState.UNSUPPORTED
            started = time.perf_counter()
            assert await woken_within(wait, 2)  # the poll timer
            assert 0.15 < time.perf_counter() - started < 1.5
    finally:
        await store.close()
    assert any("no change streams" in r.getMessage() for r in caplog.records)


async def test_a_broken_stream_reopens_and_the_write_in_between_still_wakes(
    faulty_server, settings
):
    slow = settings.model_copy(update=SLOW_POLL)
    store = Store(faulty_server.uri, "live_faults")
    admin = store.client.admin
    try:
        with live.changes(store.db, slow, MEETING_WATCH, "c1") as wait:
            assert await woken_within(wait, 5)
            await admin.command({"configureFailPoint": "failCommand", "mode": {"times": 2},
                                 "data": {"failCommands": ["getMore"], "closeConnection": True}})  # fmt: skip
            await store.db[REQUESTS].insert_one(a_request_doc("c1"))
            # Woken by the outage (everyone reads, then polls) or by the write itself.
            assert await woken_within(wait, 5)
            for _ in range(50):
                if live.feed_state(store.db) is live.FeedState.LIVE:
                    break
                await wait()
            assert live.feed_state(store.db) is live.FeedState.LIVE
            started = time.perf_counter()
            await store.db[REQUESTS].insert_one(a_request_doc("c1"))
            # The poll would take 30 s: within 2 s it was the reopened stream. (Not 1 s: the
            # suite runs in two processes, and the insert itself can wait on a loaded machine.)
            assert await woken_within(wait, 2)
            assert time.perf_counter() - started < 2.0
    finally:
        await admin.command({"configureFailPoint": "failCommand", "mode": "off"})
        await store.close()


# --- through the socket -------------------------------------------------------------------------
def _subscribe(ws, op_id: str, query: str) -> None:
    ws.send_json({"id": op_id, "type": "subscribe", "payload": {"query": query}})


def _connect(tc: TestClient, token: str):
    ctx = tc.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"])
    ws = ctx.__enter__()
    ws.send_json({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}})
    assert receive_json_within(ws)["type"] == "connection_ack"
    return ctx, ws


def _timed_next(ws, op_id: str, seconds: float = 5.0) -> tuple[dict, float]:
    started = time.perf_counter()
    message = receive_json_within(ws, seconds)
    assert message["type"] == "next" and message["id"] == op_id, message
    return message["payload"]["data"], time.perf_counter() - started


def test_meeting_updates_arrive_at_once_with_a_30_s_poll(settings, shared_engine, sync_db):
    """With polling every 30 s only the change stream can deliver in under a second; a change
    stamped before one already sent but committed after it (a late commit) still arrives;
    nothing is sent twice."""
    shared_engine.ready = False
    app = create_app(settings.model_copy(update=SLOW_POLL), engine=shared_engine)
    raced = a_request_doc(DEMO_CITIZEN_ID, at=datetime.now(UTC) - timedelta(seconds=1))
    sync_db[REQUESTS].insert_one(raced)  # just before the subscription: still sent
    with TestClient(app) as tc:
        ctx, ws = _connect(tc, token_for(DEMO_CITIZEN_ID))
        try:
            _subscribe(ws, "m", "subscription { meetingUpdates { kind id status offerId } }")
            got, _ = _timed_next(ws, "m")
            assert got["meetingUpdates"]["id"] == raced["_id"]
            _subscribe(ws, "n", "subscription { notificationAdded { id title } }")
            time.sleep(0.3)  # both subscribed, the feed open
            latencies = []
            first = a_request_doc(DEMO_CITIZEN_ID)
            sync_db[REQUESTS].insert_one(first)
            got, took = _timed_next(ws, "m")
            assert got["meetingUpdates"] == {"kind": "REQUEST", "id": first["_id"],
                                             "status": "PENDING", "offerId": first["offerId"]}  # fmt: skip
            latencies.append(took)
            late = a_request_doc(DEMO_CITIZEN_ID, at=first["updatedAt"] - timedelta(seconds=2))
            sync_db[REQUESTS].insert_one(late)
            got, took = _timed_next(ws, "m")
            assert got["meetingUpdates"]["id"] == late["_id"]
            latencies.append(took)
            sync_db[REQUESTS].update_one({"_id": first["_id"]}, {"$set": {
                "status": "SEEN", "updatedAt": datetime.now(UTC)}})  # fmt: skip
            got, took = _timed_next(ws, "m")
            assert (got["meetingUpdates"]["id"], got["meetingUpdates"]["status"]) == (
                first["_id"], "SEEN")  # fmt: skip
            latencies.append(took)

            async def add_notice() -> None:
                store = Store(settings.effective_mongodb_uri, settings.database_name)
                await notify(store.db, recipient_id=DEMO_CITIZEN_ID, recipient_role="citizen",
                             category="MEETINGS", key="live-test", text=Text("Ny", "x", "New", "x"),
                             route="/meetings", payload_type="meeting-update")  # fmt: skip
                await store.close()

            started = time.perf_counter()
            asyncio.run(add_notice())
            got, _ = _timed_next(ws, "n")
            assert got["notificationAdded"]["title"] == "Ny"
            latencies.append(time.perf_counter() - started)
            with pytest.raises(TimeoutError):  # nothing repeated
                receive_json_within(ws, 1.0)
        finally:
            ctx.__exit__(None, None, None)
    assert max(latencies) < 2.0, latencies  # the poll: 30 s (2 s of slack for a loaded machine)


def test_without_change_streams_the_socket_still_gets_every_update(
    standalone_server, settings, shared_engine, tmp_path: Path
):
    polling = settings.model_copy(update={"mongodb_uri": standalone_server.uri,
                                          "database_name": "live_standalone_app"})  # fmt: skip
    shared_engine.ready = False
    app = create_app(polling, engine=shared_engine)
    from pymongo import MongoClient

    client: MongoClient = MongoClient(standalone_server.uri, tz_aware=True)
    db = client["live_standalone_app"]
    try:
        with TestClient(app) as tc:
            ctx, ws = _connect(tc, token_for(DEMO_CITIZEN_ID))
            try:
                _subscribe(ws, "m", "subscription { meetingUpdates { id status } }")
                time.sleep(0.3)
                doc = a_request_doc(DEMO_CITIZEN_ID)
                db[REQUESTS].insert_one(doc)
                got, took = _timed_next(ws, "m")
                assert got["meetingUpdates"] == {"id": doc["_id"], "status": "PENDING"}
                assert took < 2.0  # the 0.1 s poll of the test settings
            finally:
                ctx.__exit__(None, None, None)
    finally:
        client.drop_database("live_standalone_app")
        client.close()
