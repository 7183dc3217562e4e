"""The worker's database use per batch is bounded: a claimed batch costs a fixed number of
commands plus a fixed number per slice, never one per message (counted with the
CommandCounter listener on the worker's own client, through firebase-admin to the fake FCM)."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

import pytest

from api.directory import DIRECTORY
from api.indexes import all_index_specs
from notifications.fake_fcm import FakeFcm, firebase_test_app
from notifications.transports import FcmTransport
from notifications.worker import drain_once
from store.client import Store
from store.indexes import ensure_indexes
from tests.conftest import CommandCounter

from .push_processes import seed_pushes

SLICE = 50
# A claimed batch: the claim (the live claims, the batch's ids, the update and the lease
# document's insert side by side, the read of the batch), the recipients' preferences, consents, devices and today's
# push counts (each one find; a getMore for a read longer than the server's first reply), the
# batch's push counts, written once, and its lease document, deleted at its end. (The lease's
# renewals, one update_one each, do not come into it: the test's lease outlasts the batch.)
PER_BATCH = 11
GETMORES = 2  # at most: reads whose replies the worker does not size itself (consents)
PER_SLICE = 1  # the slice's outcomes: one update_many marking its deliveries
EMPTY_CLAIM = 2  # the claim that finds nothing left: the live claims and its find (no write)


@pytest.fixture(scope="module")
def fake_fcm():
    server = FakeFcm().start()
    yield server
    server.stop()


@pytest.fixture
async def counted(settings, sync_db):
    counter = CommandCounter()
    store = Store(settings.effective_mongodb_uri, settings.database_name,
                  event_listeners=[counter])  # fmt: skip
    await ensure_indexes(store.db, all_index_specs())
    yield store.db, counter
    await store.close()


async def drained(db, counter, fake_fcm, settings, n: int) -> tuple[Counter, int]:
    await asyncio.to_thread(seed_pushes, settings.effective_mongodb_uri, settings.database_name,
                            n, "ok")  # fmt: skip
    transport = FcmTransport(firebase_test_app(fake_fcm.url))
    counter.reset()
    report = await drain_once(db, transport, DIRECTORY, "w", timedelta(seconds=30),
                              slice_size=SLICE)  # fmt: skip
    assert report.delivered == n and report.fcm_messages == n
    return Counter(counter.commands), report.slices


async def test_a_batch_costs_a_fixed_number_of_commands_plus_one_per_slice(
    counted, fake_fcm, settings
):
    db, counter = counted
    commands, slices = await drained(db, counter, fake_fcm, settings, 4 * SLICE + 7)
    assert slices == 5
    bound = PER_BATCH + GETMORES + PER_SLICE * slices + EMPTY_CLAIM
    assert sum(commands.values()) <= bound, commands
    # Nothing per message, nor per slice beyond its one write: the claim's update and one per
    # slice (the empty claim writes nothing); the lease document once for the batch
    # (inserted, deleted), the push counts once for the batch.
    assert commands["update"] == 1 + slices, commands
    assert commands["insert"] <= 2 and commands["delete"] == 1, commands
    assert commands["find"] <= 9 and commands["getMore"] <= GETMORES, commands


async def test_push_counts_inserted_as_new_meet_another_workers_count(counted):
    from datetime import UTC, datetime

    from notifications import preferences

    db, _ = counted
    now = datetime(2026, 11, 24, 11, tzinfo=UTC)
    # Both workers read no count for u1 today; the other one wrote first.
    await preferences.count_pushes(db, {"u1": 1}, now, new={"u1"})
    await preferences.count_pushes(db, {"u1": 2, "u2": 1}, now, new={"u1", "u2"})
    await preferences.count_pushes(db, {"u2": 1}, now)
    assert await preferences.pushed_today(db, ["u1", "u2", "u3"], now) == {"u1": 3, "u2": 2}
