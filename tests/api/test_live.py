"""Polling for live updates loses nothing that commits late and repeats nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from api.live import Follower

T0 = datetime(2026, 11, 23, 12, tzinfo=UTC)


def poll(follow: Follower, table: list[tuple[str, datetime]]) -> list[str]:
    """What a subscription sends from ``table`` (id, changed at) on one poll."""
    since = follow.since()
    return [key for key, at in sorted(table, key=lambda r: r[1])
            if at > since and follow.first_time((key, at), at)]  # fmt: skip


def test_changes_just_before_the_subscription_and_late_commits_are_sent_once():
    follow = Follower(T0, lookback_s=5)
    table = [("before-start", T0 - timedelta(seconds=1)), ("old", T0 - timedelta(seconds=30))]
    assert poll(follow, table) == ["before-start"]  # raced the subscription: sent
    table.append(("a", T0 + timedelta(seconds=10)))
    assert poll(follow, table) == ["a"]
    # Stamped at 9 s but committed after "a" was read: the by-time-only mark (10 s) missed it.
    table.append(("late", T0 + timedelta(seconds=9)))
    assert poll(follow, table) == ["late"]
    assert poll(follow, table) == []  # nothing twice
    # The same document changed again is a new change.
    table.append(("a", T0 + timedelta(seconds=12)))
    assert poll(follow, table) == ["a"]
    assert follow.since() == T0 + timedelta(seconds=7)
