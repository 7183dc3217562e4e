"""Live updates: a subscription reads what changed with a time-window query (``Follower`` and
``poll``), and is told *when* to read by the database's change stream, or polls on a timer
where the database has none.

Reading by time alone loses changes: a change written in the moment before the subscription
started, or committed after a later one was already read (its timestamp is taken before the
commit), falls behind the "since" mark. So each read re-reads a window of ``lookback`` seconds
before the newest change seen and skips what it already delivered; a new subscription starts
that window back too, so a change racing the subscription is sent. ``poll`` pages through by
time, so a flood (a bulk update stamping hundreds of documents with one instant) neither stalls
nor skips. Clients get each change at least once and at most once per subscription (updates
carry id and status, so a repeat across subscriptions is harmless).

When to read (``changes``): one change stream per process and database (``ChangeFeed``, opened
with the first subscription, closed after the last) carries, for each write, only the
collection and the owner fields the subscriptions key on; the feed wakes the subscriptions
whose key the written document holds, and each reads at once (milliseconds after the commit
instead of up to a poll interval). A wake-up only says "read now": the read is the same windowed
query, so the stream adds no way to lose or repeat a change. Whenever the stream (re)opens every
subscription reads (covering what was written while it was closed), and while it is down, or the
database has no change streams (detected when the feed opens; a standalone MongoDB has none,
SecantusDB and replica sets have them), subscriptions poll every ``live_updates_poll_s``.
With the stream up they still read every ``live_updates_idle_poll_s``, as a safety net.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Hashable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import OperationFailure, PyMongoError

from core.settings import Settings

log = logging.getLogger(__name__)


class Follower:
    def __init__(self, start: datetime, lookback_s: float) -> None:
        self.newest = start
        self.lookback = timedelta(seconds=lookback_s)
        self._seen: dict[Hashable, datetime] = {}

    def since(self) -> datetime:
        """Ask the database for what changed after this."""
        cutoff = self.newest - self.lookback
        # Kept while the window still reaches them (a change at the cutoff itself is re-read).
        self._seen = {k: at for k, at in self._seen.items() if at >= cutoff}
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


# --- when to read: the change feed ------------------------------------------------------------
class FeedState(StrEnum):
    OPENING = "opening"
    LIVE = "live"  # the change stream is open: subscriptions read on its wake-ups
    DOWN = "down"  # it failed; reopening (resuming where it stopped) with back-off
    UNSUPPORTED = "unsupported"  # the database has no change streams; asked again now and then


@dataclass(frozen=True)
class Watch:
    """What a kind of subscription waits for: writes to documents whose ``field`` holds the
    subscriber's value, in ``collections`` (inserts, updates and replacements), or, when the
    owner does not say where, inserts into any collection."""

    field: str
    collections: frozenset[str] | None = None

    def clause(self) -> dict[str, Any]:
        if self.collections is None:
            return {"operationType": "insert", f"fullDocument.{self.field}": {"$exists": True}}
        return {
            "operationType": {"$in": ["insert", "update", "replace"]},
            "ns.coll": {"$in": sorted(self.collections)},
        }


# Codes a server answers when it has no change streams (standalone MongoDB: 40573).
_UNSUPPORTED_CODES = {40573, 40602, 115, 20, 59}
_HISTORY_LOST_CODES = {280, 286, 260}  # the resume token is no longer usable


class ChangeFeed:
    """One change stream shared by a process's subscriptions on one database."""

    max_await_ms = 500  # how long one getMore waits; also how soon a closed feed stops
    redetect_s = 60.0  # how often a database without change streams is asked again
    max_backoff_s = 10.0

    def __init__(self, db: AsyncDatabase, on_idle: Callable[[ChangeFeed], None]) -> None:
        self.db = db
        self.state = FeedState.OPENING
        self._on_idle = on_idle
        self._waiters: dict[tuple[str, Any], set[asyncio.Event]] = {}
        self._watches: set[Watch] = set()
        self._open_watches: frozenset[Watch] = frozenset()
        self._task: asyncio.Task | None = None
        self._stop = asyncio.Event()

    @property
    def live(self) -> bool:
        return self.state is FeedState.LIVE

    @property
    def closed(self) -> bool:
        return self._stop.is_set()

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), seconds)

    def add(self, watch: Watch, value: Any) -> asyncio.Event:
        event = asyncio.Event()
        self._waiters.setdefault((watch.field, value), set()).add(event)
        self._watches.add(watch)
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="live-change-feed")
            self._task.add_done_callback(_log_failure)
        return event

    def remove(self, watch: Watch, value: Any, event: asyncio.Event) -> None:
        waiting = self._waiters.get((watch.field, value))
        if waiting is not None:
            waiting.discard(event)
            if not waiting:
                del self._waiters[(watch.field, value)]
        if not self._waiters:
            self._stop.set()  # the task ends within max_await_ms; nothing is cancelled
            self._on_idle(self)

    def _wake_all(self) -> None:
        for events in self._waiters.values():
            for event in events:
                event.set()

    def _set_state(self, state: FeedState) -> None:
        if state is not self.state:
            log.info("live updates: change feed %s", state.value)
        self.state = state
        self._wake_all()  # every subscription reads, and picks its timer for the new state

    def _pipeline(self, watches: Iterable[Watch]) -> list[dict[str, Any]]:
        fields = sorted({w.field for w in watches})
        return [
            {"$match": {"$or": [w.clause() for w in sorted(watches, key=repr)]}},
            {"$project": {"ns.coll": 1, "operationType": 1,
                          **{f"fullDocument.{f}": 1 for f in fields}}},
        ]  # fmt: skip

    def _route(self, change: dict[str, Any]) -> None:
        document = change.get("fullDocument") or {}
        for field in {w.field for w in self._open_watches}:
            value = document.get(field)
            if value is None:
                continue
            for event in self._waiters.get((field, value), ()):
                event.set()

    async def _run(self) -> None:
        token: Any = None
        backoff = 0.25
        while not self.closed:
            watches = frozenset(self._watches)
            try:
                stream = await self.db.watch(
                    self._pipeline(watches),
                    full_document="updateLookup",
                    resume_after=token,
                    max_await_time_ms=self.max_await_ms,
                )
                async with stream:
                    self._open_watches = watches
                    self._set_state(FeedState.LIVE)
                    backoff = 0.25
                    # A new kind of watch reopens the stream (resuming, so nothing is skipped).
                    while not self.closed and self._watches <= watches:
                        change = await stream.try_next()
                        token = stream.resume_token or token
                        if change is not None:
                            self._route(change)
            except asyncio.CancelledError:
                raise
            except OperationFailure as e:
                if self.closed:
                    return
                if e.code in _HISTORY_LOST_CODES:
                    token = None  # start afresh; the reopen makes everyone read
                if self.state is not FeedState.LIVE and (
                    e.code in _UNSUPPORTED_CODES or "replica set" in str(e)
                ):
                    if self.state is not FeedState.UNSUPPORTED:
                        log.info("live updates: no change streams (code %s); polling", e.code)
                    self._set_state(FeedState.UNSUPPORTED)
                    await self._pause(self.redetect_s)
                    continue
                self._set_state(FeedState.DOWN)
                await self._pause(backoff)
                backoff = min(backoff * 2, self.max_backoff_s)
            except Exception as e:  # never leave subscriptions waiting on a dead feed
                if self.closed:
                    return  # e.g. the client was closed under us at shutdown
                if not isinstance(e, PyMongoError | OSError):
                    log.exception("live updates: change feed failed; reopening")
                self._set_state(FeedState.DOWN)
                await self._pause(backoff)
                backoff = min(backoff * 2, self.max_backoff_s)


def _log_failure(task: asyncio.Task) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("live updates: change feed stopped", exc_info=task.exception())


# One feed per event loop and database (tests run several apps, each in a loop of its own).
_FEEDS: dict[tuple[int, int, str], ChangeFeed] = {}


def _feed_for(db: AsyncDatabase) -> ChangeFeed:
    key = (id(asyncio.get_running_loop()), id(db.client), db.name)
    feed = _FEEDS.get(key)
    if feed is None or feed.closed:

        def forget(done: ChangeFeed) -> None:
            if _FEEDS.get(key) is done:
                del _FEEDS[key]

        feed = _FEEDS[key] = ChangeFeed(db, forget)
    return feed


def feed_state(db: AsyncDatabase) -> FeedState | None:
    """The state of this loop's feed on ``db`` (None: no subscription has opened one)."""
    feed = _FEEDS.get((id(asyncio.get_running_loop()), id(db.client), db.name))
    return feed.state if feed is not None else None


@contextlib.contextmanager
def changes(
    db: AsyncDatabase, settings: Settings, watch: Watch, value: Any
) -> Iterator[Callable[[], Awaitable[None]]]:
    """A subscription's ``wait()``: returns when it should read again (a write to a document
    whose ``watch.field`` is ``value`` committed, the feed (re)opened, or the timer ran out).
    Read once before the first wait (what raced the subscription)."""
    if not settings.live_updates_change_streams:

        async def wait_poll() -> None:
            await asyncio.sleep(settings.live_updates_poll_s)

        yield wait_poll
        return
    feed = _feed_for(db)
    event = feed.add(watch, value)

    async def wait() -> None:
        timeout = settings.live_updates_idle_poll_s if feed.live else settings.live_updates_poll_s
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout)
        event.clear()  # before the read: a write committed during it wakes the next wait

    try:
        yield wait
    finally:
        feed.remove(watch, value, event)
