"""Live updates by polling the database (works across API instances without change streams).

Polling by time alone loses changes: a change written in the moment before the subscription
started, or committed after a later one was already read (its timestamp is taken before the
commit), falls behind the "since" mark. So each poll re-reads a window of ``lookback`` seconds
before the newest change seen and skips what it already delivered; a new subscription starts
that window back too, so a change racing the subscription is sent. ``poll`` pages through by
time, so a flood (a bulk update stamping hundreds of documents with one instant) neither stalls
nor skips. Clients get each change at least once and at most once per subscription (updates
carry id and status, so a repeat across subscriptions is harmless).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable
from datetime import datetime, timedelta


class Follower:
    def __init__(self, start: datetime, lookback_s: float) -> None:
        self.newest = start
        self.lookback = timedelta(seconds=lookback_s)
        self._seen: dict[Hashable, datetime] = {}

    def since(self) -> datetime:
        """Ask the database for what changed after this."""
        cutoff = self.newest - self.lookback
        self._seen = {k: at for k, at in self._seen.items() if at > cutoff}
        return cutoff

    def first_time(self, key: Hashable, at: datetime) -> bool:
        """Whether this change (key includes what makes it a new change) is new to the client."""
        if key in self._seen:
            return False
        self._seen[key] = at
        self.newest = max(self.newest, at)
        return True


Fetch = Callable[[datetime, int], Awaitable[list[dict]]]


async def poll(follow: Follower, fetch: Fetch, key: Callable[[dict], Hashable], at: str,
               page: int = 200) -> list[dict]:  # fmt: skip
    """The changes new to the client, oldest first. ``fetch(since, limit)`` answers documents
    with ``at`` >= since, oldest first, at most ``limit``. Pages on by time; a full page that
    all shares one instant (a bulk update) is fetched again with a larger limit, so neither a
    flood nor a shared timestamp stalls the subscription or skips a change."""
    since, limit, out = follow.since(), page, []
    while True:
        docs = await fetch(since, limit)
        out += [d for d in docs if follow.first_time(key(d), d[at])]
        if len(docs) < limit:
            return out
        if docs[-1][at] == since:
            limit *= 2
        else:
            since = docs[-1][at]
