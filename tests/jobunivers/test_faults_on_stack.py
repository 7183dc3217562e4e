"""Faults on the whole stack as `make run` starts it (jobunivers run: embedded database, API,
worker, under the supervisor), with the app's writes going over HTTP: the same scenarios
`jobunivers bench faults` runs, in fewer rounds. Every acknowledged write must be found."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from jobunivers.faults import kill_right_after_acknowledged, stall_database
from jobunivers.scratch import ScratchStack


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ScratchStack]:
    root: Path = tmp_path_factory.mktemp("fault-stack")
    running = ScratchStack(root, citizens=40, offers=12, companies=8, postings=40,
                           extra_env={"JOBUNIVERS_SUPERVISOR_BACKOFF_MAX_S": "2"})  # fmt: skip
    running.start(timeout_s=300)
    try:
        yield running
    finally:
        running.stop()


def test_kill_9_of_the_database_right_after_acknowledged_writes_loses_none(stack):
    row = asyncio.run(kill_right_after_acknowledged(stack, runs=2, with_api=False))
    assert row["acknowledged"] >= 40
    assert set(row["kinds"]) == {"joblog", "swipe"}, row  # single writes and transactions
    assert row["lost"] == 0, row
    assert row["ready_again_max_s"] < 30, row


def test_kill_9_of_database_and_api_together_loses_none(stack):
    row = asyncio.run(kill_right_after_acknowledged(stack, runs=1, with_api=True, seed=3))
    assert row["acknowledged"] >= 20
    assert row["lost"] == 0, row


def test_a_stalled_database_is_answered_as_an_outage_within_seconds(stack):
    row = asyncio.run(stall_database(stack, rate=10, seconds=10, stall_s=4))
    assert row["lost"] == 0, row
    assert "INTERNAL_SERVER_ERROR" not in row["codes"], row
    assert row["answers_during_stall"] >= 20
    # each request ends by its deadline (database calls: 2 s) instead of piling up
    assert row["during_max_s"] < 3.5, row
    assert row["codes"].get("UNAVAILABLE", 0) > 0, row
    assert row["answering_again_s"] is not None and row["answering_again_s"] < 5, row
