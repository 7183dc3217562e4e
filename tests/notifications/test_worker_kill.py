"""At-least-once push with few duplicates, on real `jobunivers worker` processes pushing through
firebase-admin to the fake FCM server: a worker killed with SIGKILL mid-batch loses nothing,
re-sends at most two slices (its sends are pipelined: one slice's outcomes are written while
the next is with FCM), its lease is taken over within one lease of the kill, and the lost
attempt is counted; worker processes side by side never send a message twice."""

from __future__ import annotations

import pytest

from notifications.fake_fcm import FakeFcm

from .push_processes import PushStack, seed_pushes, worker_kill_scenario, workers_side_by_side

LEASE_S = 3.0  # shorter than the default 10 s: the same mechanism, a quicker test
POLL_S = 0.5
SLICE = 50
BATCH = 500  # drain_once's batch_size
CLAIM_SLACK_S = 3.0  # the taking worker's claim, on a loaded machine (see the takeover check)


@pytest.fixture
def stack(db_server, database_name, sync_db, tmp_path):
    # A push to a slow-... token takes 0.8 s at the fake, so a batch of them (10 slices) lasts
    # longer than the lease.
    fake = FakeFcm(slow_s=0.8).start()
    stack = PushStack(db_server.uri, database_name, fake, tmp_path, lease_s=LEASE_S,
                      slice_size=SLICE, poll_s=POLL_S)  # fmt: skip
    yield stack
    stack.close()
    fake.stop()


def test_a_worker_killed_mid_batch_resends_at_most_two_slices(stack):
    # Killed in its second batch (the slow one) while the sixth slice is with FCM; a second
    # worker runs beside it from that batch's start.
    result = worker_kill_scenario(stack, batch=BATCH, kill_in_slice=6)
    assert result.lost == 0 and result.delivered == result.messages == 2 * BATCH, result
    # At most the slice with FCM and the one before it, whose outcomes were being written.
    assert result.duplicates <= 2 * SLICE, result
    assert 0 < result.held_at_kill <= BATCH - 4 * SLICE, result
    # The batch outlived its first lease, yet its lease still ran at the kill: renewed.
    assert result.batch_age_at_kill_s > LEASE_S and result.lease_left_at_kill_s > 0, result
    # Taken over by the worker running beside it within a lease (plus a poll, plus the time
    # the taking claim itself needs: on 2 cores shared with the other test process that
    # sorted scan and conditional update took 1.5-3 s) of the kill, and not before the
    # killed worker's lease ran out.
    assert result.takeover_s <= LEASE_S + POLL_S + CLAIM_SLACK_S, result
    assert result.takeover_s >= result.lease_left_at_kill_s - 0.2, result
    # The lost attempt is counted; a first clean send records one attempt. Only the slice whose
    # outcomes the killed worker had already sent to the database may be recorded after the
    # kill (the database finishes that write): those were sent once, with one attempt.
    assert set(result.taken_over_attempts) == {2}, result
    assert result.recorded_after_kill <= SLICE, result
    assert set(result.other_attempts) == {1}, result


def test_worker_processes_side_by_side_send_every_message_once(stack):
    tokens = seed_pushes(stack.db_uri, stack.database, 2 * BATCH, token_prefix="ok")
    received = workers_side_by_side(stack, tokens, workers=2)
    assert sorted(received) == sorted(tokens)
    assert set(received.values()) == {1}
