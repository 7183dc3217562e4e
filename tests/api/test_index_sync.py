"""Housekeeping brings postings changed through another API process into this one's index
(api/housekeeping.py): also one whose write committed after a later one was read (its
``updatedAt``, the writer's clock before the commit, lies behind what was already read), each
change applied once, and a burst larger than one page read in pages within one pass."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from api.housekeeping import SyncState, run_once
from api.jobs import repository as jobs
from store.client import Store


class RecordingEngine:
    ready = True

    def __init__(self) -> None:
        self.upserts: list[str] = []
        self.removed: list[str] = []

    async def upsert_posting(self, doc, now=None) -> None:
        self.upserts.append(doc["_id"])

    def remove_posting(self, posting_id: str) -> None:
        self.removed.append(posting_id)


@pytest.fixture
async def db(settings, sync_db) -> AsyncIterator[object]:
    store = Store(settings.effective_mongodb_uri, settings.database_name)
    try:
        yield store.db
    finally:
        await store.close()


def _posting(pid: str, updated: datetime) -> dict:
    return {
        "_id": pid,
        "status": "OPEN",
        "deadline": updated + timedelta(days=30),
        "updatedAt": updated,
    }


async def test_a_late_commit_is_synced_and_nothing_twice(db, settings):
    engine = RecordingEngine()
    state = SyncState(since=datetime.now(UTC) - timedelta(seconds=30))
    now = datetime.now(UTC)
    await db.postings.insert_one(_posting("p-first", now))
    await run_once(db, settings, engine, state)  # type: ignore[arg-type]
    assert engine.upserts == ["p-first"]
    # Written (updatedAt taken) before p-first, committed after the pass read p-first.
    await db.postings.insert_one(_posting("p-late", now - timedelta(seconds=5)))
    await run_once(db, settings, engine, state)  # type: ignore[arg-type]
    assert engine.upserts == ["p-first", "p-late"], "the late commit reaches the index, once"
    # A change to an applied posting is a new updatedAt: applied again.
    await db.postings.update_one(
        {"_id": "p-first"}, {"$set": {"updatedAt": datetime.now(UTC), "status": "CLOSED"}}
    )
    await run_once(db, settings, engine, state)  # type: ignore[arg-type]
    assert engine.upserts == ["p-first", "p-late", "p-first"]


async def test_a_burst_larger_than_a_page_is_read_in_one_pass(db, settings, monkeypatch):
    monkeypatch.setattr(jobs, "CHANGED_PAGE", 3)
    engine = RecordingEngine()
    state = SyncState(since=datetime.now(UTC) - timedelta(seconds=30))
    start = datetime.now(UTC)
    ids = [f"p-{i}" for i in range(8)]
    await db.postings.insert_many(
        [_posting(pid, start + timedelta(milliseconds=i)) for i, pid in enumerate(ids)]
    )
    figures = await run_once(db, settings, engine, state)  # type: ignore[arg-type]
    assert sorted(engine.upserts) == ids and figures["postings_synced"] == 8
    await run_once(db, settings, engine, state)  # type: ignore[arg-type]
    assert len(engine.upserts) == 8, "nothing applied twice"
