"""A one-off data fix runs until it has completed once, then start-ups skip it."""

from __future__ import annotations

import pytest

from store.client import Store
from store.migrations import run_once


async def test_a_fix_runs_once_and_a_failed_one_runs_again(db_server, database_name):
    store = Store(db_server.uri, database_name)
    runs = []

    async def step(db):
        runs.append(1)

    async def failing(db):
        raise RuntimeError("half-way")

    try:
        assert await run_once(store.db, "fix", step) is True
        assert await run_once(store.db, "fix", step) is False
        assert runs == [1]
        with pytest.raises(RuntimeError):
            await run_once(store.db, "other", failing)
        assert await run_once(store.db, "other", step) is True  # not marked done
        assert await store.db.migrations.count_documents({}) == 2
    finally:
        await store.close()
