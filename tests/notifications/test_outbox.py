"""The push pipeline through the real firebase-admin code path, against a fake FCM HTTP v1
server on 127.0.0.1: outcomes per device, retries and back-off, dead letters, leases and a
worker killed mid-batch, preferences, and the payloads' JSON Schemas."""

from __future__ import annotations

import asyncio
import itertools
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jsonschema
import pytest

from api.directory import DIRECTORY
from api.indexes import all_index_specs
from notifications import devices, outbox, payloads
from notifications.fake_fcm import FakeFcm, firebase_test_app
from notifications.inbox import Text, notify
from notifications.transports import FcmTransport, Outcome
from notifications.worker import drain_once
from store import collections as c
from store.client import Store
from store.indexes import ensure_indexes

PUSH = Path(__file__).resolve().parents[2] / "mobile_contract" / "push"
LEASE = timedelta(seconds=30)
# A Tuesday at noon in Copenhagen: outside the default quiet hours.
NOON = datetime(2026, 11, 24, 11, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def fake_fcm():
    server = FakeFcm(slow_s=1.5).start()
    yield server
    server.stop()


@pytest.fixture
def transport(fake_fcm):
    fake_fcm.received.clear()
    fake_fcm._seen.clear()
    return FcmTransport(firebase_test_app(fake_fcm.url))


@pytest.fixture
async def db(settings, sync_db):
    store = Store(settings.effective_mongodb_uri, settings.database_name)
    await ensure_indexes(store.db, all_index_specs())
    yield store.db
    await store.close()


async def citizen(db, cid: str, tokens: list[str], push: dict | None = None, locale="da"):
    await db[c.CITIZENS].insert_one(
        {"_id": cid, "locale": locale, "consents": {"push": push or {}}}
    )
    for t in tokens:
        await devices.register(db, user_id=cid, role="citizen", token=t, platform="ANDROID",
                               app_version="1.0.0", locale=locale, now=NOON)  # fmt: skip


async def message(db, cid: str, key: str, *, category="MEETINGS", kind="meeting-update",
                  critical=False, now=NOON) -> None:  # fmt: skip
    made = await notify(
        db, recipient_id=cid, recipient_role="citizen", category=category, key=key,
        text=Text("Dit kaffemøde er bekræftet", "Østjysk Lager vil gerne mødes med dig.",
                  "Your coffee meeting is confirmed", "Østjysk Lager would like to meet you."),
        route="/meetings/m1", payload_type=kind, critical=critical, now=now,
    )  # fmt: skip
    assert made


async def status_of(db, key_part: str) -> dict:
    return await db[c.OUTBOX].find_one({"idempotencyKey": {"$regex": key_part}})


def schema(name: str) -> dict:
    return json.loads((PUSH / f"{name}.schema.json").read_text())


# --- outcomes ---------------------------------------------------------------------------------
async def test_a_message_reaches_every_device_and_is_stored_first(db, transport, fake_fcm):
    await citizen(db, "b1", ["ok-phone", "ok-tablet"])
    await message(db, "b1", "request-accepted:r1")
    assert not await notify(db, recipient_id="b1", recipient_role="citizen", category="MEETINGS",
                            key="request-accepted:r1", text=Text("a", "b", "c", "d"), now=NOON)  # fmt: skip
    assert await db[c.INBOX].count_documents({"recipientId": "b1"}) == 1
    report = await drain_once(db, transport, DIRECTORY, "w", LEASE, now=NOON)
    assert (report.delivered, report.fcm_messages) == (1, 2)
    assert sorted(fake_fcm.tokens()) == ["ok-phone", "ok-tablet"]
    sent = fake_fcm.received[0]["message"]
    jsonschema.validate(sent, schema("meeting-update"))
    assert sent["android"]["collapse_key"] == "b1:request-accepted:r1"
    assert sent["apns"]["headers"]["apns-priority"] == "10"
    done = await status_of(db, "r1")
    assert (done["status"], done["attempts"], done["deliveredAt"]) == (outbox.DELIVERED, 1, NOON)
    assert "claim" not in done and "leaseOwner" not in done
    # Nothing is sent twice.
    assert (await drain_once(db, transport, DIRECTORY, "w", LEASE, now=NOON)).messages == 0


async def test_unregistered_and_invalid_tokens_are_deleted_without_retry(db, transport, fake_fcm):
    await citizen(db, "b2", ["ok-1", "unregistered-1", "invalid-1"])
    await message(db, "b2", "request-accepted:r2")
    report = await drain_once(db, transport, DIRECTORY, "w", LEASE, now=NOON)
    assert report.by_outcome == {"sent": 1, "unregistered": 1, "invalid_token": 1}
    assert report.tokens_removed == 2 and report.retried == 0
    assert [d["_id"] for d in await devices.of_user(db, "b2")] == ["ok-1"]
    assert (await status_of(db, "r2"))["status"] == outbox.DELIVERED
    later = NOON + timedelta(hours=2)
    assert (await drain_once(db, transport, DIRECTORY, "w", LEASE, now=later)).messages == 0
    assert len(fake_fcm.received) == 3


async def test_only_gone_devices_means_no_device(db, transport):
    await citizen(db, "b3", ["unregistered-2"])
    await message(db, "b3", "request-accepted:r3")
    await drain_once(db, transport, DIRECTORY, "w", LEASE, now=NOON)
    doc = await status_of(db, "r3")
    assert (doc["status"], doc["reason"]) == (outbox.SUPPRESSED, "NO_DEVICE")
    assert await devices.of_user(db, "b3") == []


async def test_quota_waits_at_least_a_minute_and_gives_up_as_dead(db, transport, fake_fcm):
    await citizen(db, "b4", ["quota-1", "ok-4"])
    await message(db, "b4", "request-accepted:r4")
    now = NOON
    await drain_once(db, transport, DIRECTORY, "w", LEASE, now=now)
    doc = await status_of(db, "r4")
    assert doc["status"] == outbox.PENDING and doc["attempts"] == 1
    assert doc["tokens"] == ["quota-1"]  # the phone that got it is not sent to again
    assert doc["dueAt"] - now >= timedelta(seconds=60)
    assert (
        await drain_once(db, transport, DIRECTORY, "w", LEASE, now=now + timedelta(seconds=59))
    ).messages == 0
    delays = []
    for _ in range(outbox.MAX_ATTEMPTS):
        now = doc["dueAt"]
        await drain_once(db, transport, DIRECTORY, "w", LEASE, now=now)
        doc = await status_of(db, "r4")
        if doc["status"] != outbox.PENDING:
            break
        delays.append(doc["dueAt"] - now)
    assert doc["status"] == outbox.DEAD and doc["attempts"] == outbox.MAX_ATTEMPTS
    assert all(d >= timedelta(seconds=60) for d in delays)
    assert delays[-1] > delays[0]  # exponential back-off
    dead = await outbox.dead_letters(db)
    assert [d["_id"] for d in dead] == [doc["_id"]] and "title" not in dead[0]
    assert fake_fcm.tokens().count("ok-4") == 1


async def test_unavailable_is_retried_with_backoff_until_it_goes_through(db, transport, fake_fcm):
    await citizen(db, "b5", ["flaky-5"])
    await message(db, "b5", "request-accepted:r5")
    now = NOON
    for _ in range(3):
        await drain_once(db, transport, DIRECTORY, "w", LEASE, now=now)
        doc = await status_of(db, "r5")
        if doc["status"] == outbox.DELIVERED:
            break
        assert doc["lastError"] == ["unavailable"] and doc["dueAt"] > now
        now = doc["dueAt"]
    assert doc["status"] == outbox.DELIVERED and doc["attempts"] == 3
    assert fake_fcm.tokens().count("flaky-5") == 3


def test_backoff_grows_with_jitter_and_quota_floor():
    import random

    rng = random.Random(1)
    plain = [outbox.retry_delay(a, False, rng) for a in range(1, 6)]
    assert all(b > a for a, b in itertools.pairwise(plain))
    assert min(outbox.retry_delay(1, True, random.Random(i)) for i in range(50)) >= timedelta(
        seconds=60
    )
    samples = {outbox.retry_delay(3, False, random.Random(i)) for i in range(20)}
    assert len(samples) > 10  # jittered


# --- leases and a worker that dies --------------------------------------------------------------
async def test_a_worker_killed_mid_batch_loses_nothing(db, transport, fake_fcm):
    for i in range(20):
        await citizen(db, f"k{i}", [f"slow-{i}"])
        await message(db, f"k{i}", f"request-accepted:k{i}")
    worker_a = asyncio.create_task(drain_once(db, transport, DIRECTORY, "a", LEASE, now=NOON))
    await asyncio.sleep(0.5)  # the batch is with FCM
    worker_a.cancel()
    with pytest.raises(asyncio.CancelledError):
        await worker_a
    leased = await db[c.OUTBOX].count_documents({"status": outbox.SENDING, "leaseOwner": "a"})
    assert leased == 20
    # Another worker cannot take them while the lease runs ...
    assert (
        await drain_once(db, transport, DIRECTORY, "b", LEASE, now=NOON + timedelta(seconds=5))
    ).messages == 0
    # ... and takes them all over when it has run out.
    report = await drain_once(
        db, transport, DIRECTORY, "b", LEASE, now=NOON + LEASE + timedelta(seconds=1)
    )
    assert report.delivered == 20
    # The lost attempt counts: each message was tried twice.
    assert await db[c.OUTBOX].count_documents({"status": outbox.DELIVERED, "attempts": 2}) == 20
    tokens = fake_fcm.tokens()
    assert set(tokens) == {f"slow-{i}" for i in range(20)}
    assert all(tokens.count(f"slow-{i}") <= 2 for i in range(20))  # at-least-once, not more


async def test_concurrent_workers_send_each_message_once(db, transport, fake_fcm):
    for i in range(30):
        await citizen(db, f"p{i}", [f"ok-p{i}"])
        await message(db, f"p{i}", f"request-accepted:p{i}")
    reports = await asyncio.gather(
        *(
            drain_once(
                db, transport, DIRECTORY, f"w{i}", LEASE, batch_size=7, slice_size=3, now=NOON
            )
            for i in range(4)
        )
    )
    assert sum(r.delivered for r in reports) == 30
    assert sorted(fake_fcm.tokens()) == sorted(f"ok-p{i}" for i in range(30))


# --- preferences ---------------------------------------------------------------------------------
async def test_a_category_that_is_off_stays_in_the_inbox_only(db, transport, fake_fcm):
    await citizen(db, "q1", ["ok-q1"], push={"JOB_ALERTS": False})
    await message(db, "q1", "job-alert:q1:p1", category="JOB_ALERTS", kind="job-alert")
    await drain_once(db, transport, DIRECTORY, "w", LEASE, now=NOON)
    doc = await status_of(db, "job-alert:q1")
    assert (doc["status"], doc["reason"]) == (outbox.SUPPRESSED, "CATEGORY_OFF")
    assert fake_fcm.received == []
    assert await db[c.INBOX].count_documents({"recipientId": "q1"}) == 1


async def test_quiet_hours_postpone_but_critical_messages_go_through(db, transport, fake_fcm):
    evening = datetime(2026, 11, 24, 21, 30, tzinfo=UTC)  # 22:30 in Copenhagen
    await citizen(db, "q2", ["ok-q2"])
    await message(db, "q2", "job-digest:q2", category="JOB_ALERTS", kind="job-digest", now=evening)
    await message(db, "q2", "reminder-1h:q2", category="REMINDERS", kind="meeting-reminder",
                  critical=True, now=evening)  # fmt: skip
    report = await drain_once(db, transport, DIRECTORY, "w", LEASE, now=evening)
    assert (report.delivered, report.postponed) == (1, 1)
    digest = await status_of(db, "job-digest:q2")
    assert digest["status"] == outbox.PENDING
    assert digest["attempts"] == 0  # postponed, not tried
    assert digest["dueAt"] == datetime(2026, 11, 25, 7, 0, tzinfo=UTC)  # 08:00 in Copenhagen
    assert fake_fcm.tokens() == ["ok-q2"]
    morning = await drain_once(db, transport, DIRECTORY, "w", LEASE, now=digest["dueAt"])
    assert morning.delivered == 1


async def test_the_daily_cap_holds_for_the_day(db, transport, fake_fcm):
    await citizen(db, "q3", ["ok-q3"])
    await db[c.NOTIFICATION_PREFS].insert_one({"_id": "q3", "dailyCap": 2})
    for i in range(4):
        await message(db, "q3", f"job-alert:q3:{i}", category="JOB_ALERTS", kind="job-alert")
    await message(db, "q3", "meeting-cancelled:q3", critical=True)
    report = await drain_once(db, transport, DIRECTORY, "w", LEASE, now=NOON)
    assert report.delivered == 3 and report.suppressed == 2  # two alerts + the critical one
    capped = await db[c.OUTBOX].count_documents(
        {"recipientId": "q3", "reason": "DAILY_CAP", "attempts": 0}
    )
    assert capped == 2  # suppressed without being tried


async def test_stale_devices_are_removed(db):
    old, recent = NOON - timedelta(days=271), NOON - timedelta(days=269)
    for token, seen in (("ok-old", old), ("ok-recent", recent)):
        await devices.register(db, user_id="s1", role="citizen", token=token, platform="IOS",
                               app_version="1", locale="da", now=seen)  # fmt: skip
    assert await devices.remove_stale(db, NOON) == 1
    assert [d["_id"] for d in await devices.of_user(db, "s1")] == ["ok-recent"]


# --- payloads ------------------------------------------------------------------------------------
ENTRY = {"idempotencyKey": "u:job-alert:u:p", "inboxId": "i1", "title": "Nyt job der matcher dig",
         "body": "Lagermedarbejder hos Østjysk Lager i Aarhus N.", "route": "/jobs/p1"}  # fmt: skip


@pytest.mark.parametrize(
    ("kind", "category", "route", "critical"),
    [
        ("job-alert", "JOB_ALERTS", "/jobs/p1", False),
        ("job-digest", "JOB_ALERTS", "/jobs/agent", False),
        ("meeting-request", "MEETINGS", "/offers/o1/requests/r1", False),
        ("meeting-update", "MEETINGS", "/meetings/m1", True),
        ("meeting-reminder", "REMINDERS", "/meetings/m1", True),
        ("meeting-reminder", "REMINDERS", "/meetings/m1", False),
        ("news", "NEWS", "/news", False),
    ],
)
def test_every_payload_type_matches_its_schema(kind, category, route, critical):
    entry = ENTRY | {
        "payloadType": kind,
        "category": category,
        "route": route,
        "critical": critical,
    }
    message = json.loads(payloads.encoded(payloads.build(entry, "tok", NOON)))
    jsonschema.validate(message, schema(kind))
    assert len(payloads.encoded(payloads.build(entry, "tok", NOON))) <= payloads.MAX_BYTES


def test_data_only_goes_to_apple_at_priority_five():
    entry = ENTRY | {"payloadType": "meeting-update", "category": "MEETINGS", "silent": True}
    message = json.loads(payloads.encoded(payloads.build(entry, "tok", NOON)))
    jsonschema.validate(message, schema("silent"))
    assert "notification" not in message


def test_long_texts_are_shortened_to_fit_four_kilobytes():
    entry = ENTRY | {"payloadType": "job-digest", "category": "JOB_ALERTS", "body": "ø" * 5000}
    built = payloads.build(entry, "tok", NOON)
    assert len(payloads.encoded(built)) <= payloads.MAX_BYTES
    assert built.notification.body.endswith("…")
    assert json.loads(payloads.encoded(built))["data"]["route"] == "/jobs/p1"


def test_long_keys_collapse_to_the_same_hash():
    key = "x" * 100
    assert payloads.collapse_key(key) == payloads.collapse_key(key)
    assert len(payloads.collapse_key(key)) == 64


def test_outcomes_map_like_fcm_errors():
    from firebase_admin import exceptions, messaging

    from notifications.transports import classify

    assert classify(messaging.UnregisteredError("x")) is Outcome.UNREGISTERED
    assert classify(messaging.QuotaExceededError("x")) is Outcome.QUOTA
    assert classify(exceptions.ResourceExhaustedError("x")) is Outcome.QUOTA
    assert classify(exceptions.UnavailableError("x")) is Outcome.UNAVAILABLE
    assert classify(exceptions.InternalError("x")) is Outcome.UNAVAILABLE
    assert (
        classify(exceptions.InvalidArgumentError("bad registration token")) is Outcome.INVALID_TOKEN
    )
    assert classify(exceptions.InvalidArgumentError("bad ttl")) is Outcome.BAD_MESSAGE
