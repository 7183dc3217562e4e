"""The push worker's slices, lease heartbeat and attempt counting, in one process against the
fake FCM server (through firebase-admin): each slice's outcomes are written before the slice
after the next goes out (sends are pipelined), a slow live worker keeps its batch past the
lease, a stalled one leaves what was taken over, and every attempt is counted."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from api.directory import DIRECTORY
from api.indexes import all_index_specs
from notifications import devices, outbox
from notifications.fake_fcm import FakeFcm, firebase_test_app
from notifications.inbox import Text, notify
from notifications.transports import FcmTransport
from notifications.worker import drain_once
from store import collections as c
from store.client import Store
from store.indexes import ensure_indexes

SLOW_S = 1.0


@pytest.fixture(scope="module")
def fake_fcm():
    server = FakeFcm(slow_s=SLOW_S).start()
    yield server
    server.stop()


@pytest.fixture
def transport(fake_fcm):
    fake_fcm.received.clear()
    return FcmTransport(firebase_test_app(fake_fcm.url))


@pytest.fixture
async def db(settings, sync_db):
    store = Store(settings.effective_mongodb_uri, settings.database_name)
    await ensure_indexes(store.db, all_index_specs())
    yield store.db
    await store.close()


async def pushes(db, n: int, prefix: str) -> list[str]:
    """``n`` critical pushes (sent at any hour), one device each; returns the tokens."""
    now = datetime.now(UTC)
    for i in range(n):
        cid = f"{prefix}{i}"
        await db[c.CITIZENS].insert_one({"_id": cid, "locale": "da", "consents": {}})
        await devices.register(db, user_id=cid, role="citizen", token=f"{prefix}-{i}",
                               platform="ANDROID", app_version="1", locale="da", now=now)  # fmt: skip
        await notify(db, recipient_id=cid, recipient_role="citizen", category="MEETINGS",
                     key=f"meeting-moved:{cid}", text=Text("Flyttet", "Se", "Moved", "See"),
                     payload_type="meeting-update", critical=True, now=now)  # fmt: skip
    return [f"{prefix}-{i}" for i in range(n)]


class Recording:
    """The real transport, noting per call how many pushes it carried and how many messages
    were already recorded delivered when the call began."""

    def __init__(self, inner: FcmTransport, db) -> None:
        self.inner, self.db, self.calls = inner, db, []

    async def send(self, messages):
        done = await self.db[c.OUTBOX].count_documents({"status": outbox.DELIVERED})
        self.calls.append((len(messages), done))
        return await self.inner.send(messages)


async def test_each_slice_is_recorded_before_the_one_after_next_goes_out(db, transport, fake_fcm):
    await pushes(db, 23, "ok")
    recording = Recording(transport, db)
    report = await drain_once(db, recording, DIRECTORY, "w", timedelta(seconds=10), slice_size=5)
    assert (report.delivered, report.slices) == (23, 5)
    # Pipelined: slice k+1 may go out while slice k is written, never before slice k-1 is.
    assert [n for n, _ in recording.calls] == [5, 5, 5, 5, 3]
    for k, (_, done) in enumerate(recording.calls):
        assert 5 * max(0, k - 1) <= done <= 5 * k, recording.calls
    docs = await db[c.OUTBOX].find({}, {"attempts": 1, "status": 1}).to_list()
    assert {(d["status"], d["attempts"]) for d in docs} == {(outbox.DELIVERED, 1)}


async def test_a_slow_live_worker_keeps_its_batch_past_the_lease(db, transport, fake_fcm):
    tokens = await pushes(db, 6, "slow")
    lease = timedelta(seconds=1.2)  # renewed every 0.4 s; the batch takes 3 slices x 1 s
    slow = asyncio.create_task(
        drain_once(db, transport, DIRECTORY, "slow", lease, batch_size=6, slice_size=2)
    )
    for _ in range(100):  # until the slow worker holds the batch
        await asyncio.sleep(0.02)
        if await db[c.OUTBOX].count_documents({"leaseOwner": "slow"}) == 6:
            break
    other = FcmTransport(firebase_test_app(fake_fcm.url))
    tries = 0
    while not slow.done():
        taken = await drain_once(db, other, DIRECTORY, "other", lease, slice_size=2)
        assert taken.messages == 0  # the lease holds while the slow worker renews it
        tries += 1
        await asyncio.sleep(0.1)
    report = slow.result()
    assert tries > 10 and report.delivered == 6 and report.taken_over == 0
    assert Counter(fake_fcm.tokens()) == Counter(tokens)  # each once
    docs = await db[c.OUTBOX].find({}, {"attempts": 1, "status": 1}).to_list()
    assert {(d["status"], d["attempts"]) for d in docs} == {(outbox.DELIVERED, 1)}


class Stalling:
    """The real transport; after its second call the whole process stalls (the event loop is
    blocked, as under SIGSTOP) past the lease, while another worker takes the batch over."""

    def __init__(self, inner: FcmTransport, takeover: threading.Thread) -> None:
        self.inner, self.takeover, self.calls = inner, takeover, 0

    async def send(self, messages):
        outcomes = await self.inner.send(messages)
        self.calls += 1
        if self.calls == 2:
            self.takeover.start()
            self.takeover.join()  # blocks the loop: no lease renewal meanwhile
        return outcomes


async def test_a_stalled_worker_leaves_what_was_taken_over(db, settings, transport, fake_fcm):
    tokens = await pushes(db, 6, "ok")
    lease = timedelta(seconds=1.0)
    taken: dict = {}

    def other_worker() -> None:
        time.sleep(lease.total_seconds() + 0.3)  # the stalled worker's lease runs out

        async def drain() -> None:
            store = Store(settings.effective_mongodb_uri, settings.database_name)
            other = FcmTransport(firebase_test_app(fake_fcm.url))
            taken["report"] = await drain_once(store.db, other, DIRECTORY, "other", lease)
            await store.close()

        asyncio.run(drain())

    stalling = Stalling(transport, threading.Thread(target=other_worker))
    report = await drain_once(db, stalling, DIRECTORY, "stalled", lease, slice_size=2)
    # The other worker took the unrecorded second slice (and the first, if its outcomes were
    # still being written when the loop stalled: the sends are pipelined) and the unsent third
    # one; the stalled worker checked its lease when it woke and did not send the third again.
    again = taken["report"].delivered - 2  # the stalled worker's slices sent twice, 1 or 2
    assert again in (2, 4), taken["report"]
    assert (report.slices, report.fcm_messages, report.taken_over) == (2, 4, 2)
    sent = Counter(fake_fcm.tokens())
    assert sorted(sent.values()) == sorted([1] * (6 - again) + [2] * again)
    docs = await db[c.OUTBOX].find({}, {"attempts": 1, "status": 1}).to_list()
    assert Counter((d["status"], d["attempts"]) for d in docs) == {
        (outbox.DELIVERED, 1): 6 - taken["report"].delivered,
        (outbox.DELIVERED, 2): taken["report"].delivered,
    }
    assert set(sent) == set(tokens)


async def test_a_message_whose_workers_keep_dying_is_dead_without_another_send(
    db, transport, fake_fcm
):
    await pushes(db, 1, "ok")
    now = datetime.now(UTC)
    # MAX_ATTEMPTS claims, each lost with its worker: the lease ran out on the last one.
    await db[c.OUTBOX].update_one(
        {}, {"$set": {"status": outbox.SENDING, "attempts": outbox.MAX_ATTEMPTS,
                      "claim": "gone", "dueAt": now - timedelta(seconds=1)}},
    )  # fmt: skip
    report = await drain_once(db, transport, DIRECTORY, "w", timedelta(seconds=10))
    assert (report.dead, report.fcm_messages) == (1, 0)
    doc = await db[c.OUTBOX].find_one({})
    assert (doc["status"], doc["attempts"]) == (outbox.DEAD, outbox.MAX_ATTEMPTS)
    assert doc["lastError"] == [outbox.WORKER_LOST]
    assert fake_fcm.received == []
    assert [d["_id"] for d in await outbox.dead_letters(db)] == [doc["_id"]]


# --- the lease is one document per claim ------------------------------------------------------
async def test_a_renewal_writes_the_claims_lease_document_not_its_messages(db):
    await pushes(db, 30, "ok")
    # Due (queued before it), and whole seconds: the database keeps milliseconds.
    now = (datetime.now(UTC) + timedelta(seconds=1)).replace(microsecond=0)
    lease = timedelta(seconds=10)
    batch = await outbox.claim_batch(db, "a", lease, 500, now)
    claim = batch[0]["claim"]
    assert len(batch) == 30 and {m["claim"] for m in batch} == {claim}
    # The first lease runs from the marking of the messages (a little after ``now``).
    first_end = batch[0]["dueAt"]
    assert {m["dueAt"] for m in batch} == {first_end}
    assert now + lease <= first_end < now + lease + timedelta(seconds=5)
    assert await db[c.OUTBOX_CLAIMS].find_one({"_id": claim}) == {
        "_id": claim, "owner": "a", "until": first_end, "createdAt": now,
    }  # fmt: skip
    # Renewed to a minute later: one document changes; the messages keep their first end.
    assert await outbox.renew_claim(db, claim, now + timedelta(minutes=1))
    assert not await outbox.renew_claim(db, "no-such-claim", now + timedelta(minutes=1))
    assert {d["dueAt"] for d in await db[c.OUTBOX].find({}).to_list()} == {first_end}
    # Renewals may cross: an older one never shortens the lease.
    assert await outbox.renew_claim(db, claim, now + timedelta(seconds=20))
    doc = await db[c.OUTBOX_CLAIMS].find_one({"_id": claim})
    assert doc["until"] == now + timedelta(minutes=1)
    # Past the messages' dueAt but within the renewed lease, nothing is claimable ...
    assert await outbox.claim_batch(db, "b", lease, 500, now + timedelta(seconds=30)) == []
    assert await outbox.claim_one(db, "b", lease, now + timedelta(seconds=30)) is None
    # ... and once the lease document's end has passed, another worker takes them all over.
    taken = await outbox.claim_batch(db, "b", lease, 500, now + timedelta(minutes=2))
    assert len(taken) == 30 and {m["attempts"] for m in taken} == {2}
    assert await outbox.held_ids(db, claim) == set()


async def test_a_lapsed_claim_holds_again_only_what_was_not_taken_over(db):
    await pushes(db, 10, "ok")
    now = datetime.now(UTC)
    lease = timedelta(seconds=10)
    mine = await outbox.claim_batch(db, "a", lease, 500, now)
    claim = mine[0]["claim"]
    # Its lease ran out; another worker took the first four over.
    theirs = await outbox.claim_batch(db, "b", lease, 4, now + timedelta(seconds=11))
    assert len(theirs) == 4
    later = now + timedelta(seconds=12)
    still = await outbox.reassert_claim(db, claim, "a", later + lease)
    assert still == {m["_id"] for m in mine} - {m["_id"] for m in theirs}
    # What it holds again is protected from a third worker (dueAt and the lease document),
    # and so is the other worker's batch.
    assert await outbox.claim_batch(db, "c", lease, 500, later + timedelta(seconds=5)) == []
    # A swept lease document is written again by the next reassertion.
    assert await outbox.sweep_claims(db, later + timedelta(hours=1)) == 2
    assert await outbox.reassert_claim(db, claim, "a", later + lease) == still
    assert (await db[c.OUTBOX_CLAIMS].find_one({"_id": claim}))["owner"] == "a"


async def test_a_finished_batch_releases_its_lease_document(db, transport, fake_fcm):
    await pushes(db, 7, "ok")
    report = await drain_once(db, transport, DIRECTORY, "w", timedelta(seconds=10), slice_size=5)
    assert report.delivered == 7
    assert await db[c.OUTBOX_CLAIMS].count_documents({}) == 0
