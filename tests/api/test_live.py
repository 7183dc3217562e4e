"""Polling for live updates loses nothing that commits late and repeats nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from api.live import Follower, poll

T0 = datetime(2026, 11, 23, 12, tzinfo=UTC)


def poll_table(follow: Follower, table: list[tuple[str, datetime]]) -> list[str]:
    """What a subscription sends from ``table`` (id, changed at) on one poll."""
    since = follow.since()
    return [key for key, at in sorted(table, key=lambda r: r[1])
            if at > since and follow.first_time((key, at), at)]  # fmt: skip


def test_changes_just_before_the_subscription_and_late_commits_are_sent_once():
    follow = Follower(T0, lookback_s=5)
    table = [("before-start", T0 - timedelta(seconds=1)), ("old", T0 - timedelta(seconds=30))]
    assert poll_table(follow, table) == ["before-start"]  # raced the subscription: sent
    table.append(("a", T0 + timedelta(seconds=10)))
    assert poll_table(follow, table) == ["a"]
    # Stamped at 9 s but committed after "a" was read: the by-time-only mark (10 s) missed it.
    table.append(("late", T0 + timedelta(seconds=9)))
    assert poll_table(follow, table) == ["late"]
    assert poll_table(follow, table) == []  # nothing twice
    # The same document changed again is a new change.
    table.append(("a", T0 + timedelta(seconds=12)))
    assert poll_table(follow, table) == ["a"]
    assert follow.since() == T0 + timedelta(seconds=7)


async def test_a_flood_sharing_one_instant_is_paged_through_without_stalling_or_skipping():
    """500 requests expired by one bulk update carry the same time; pages hold 200."""
    table = [{"_id": f"r{i:03}", "at": T0 + timedelta(seconds=1)} for i in range(500)]
    table += [{"_id": f"s{i}", "at": T0 + timedelta(seconds=2 + i / 100)} for i in range(450)]
    calls = []

    async def fetch(since: datetime, limit: int) -> list[dict]:
        calls.append(limit)
        assert len(calls) < 50, "the poll is stuck on one page"
        return sorted((d for d in table if d["at"] >= since), key=lambda d: d["at"])[:limit]

    follow = Follower(T0, lookback_s=5)
    sent = await poll(follow, fetch, key=lambda d: d["_id"], at="at", page=200)
    assert [d["_id"] for d in sent] == [d["_id"] for d in table]  # all, once, in order
    assert len(calls) < 10
    assert await poll(follow, fetch, key=lambda d: d["_id"], at="at", page=200) == []
