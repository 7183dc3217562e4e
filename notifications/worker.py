"""The push worker: claims outbox batches under a lease, applies each recipient's preferences,
sends to every device through the transport, and records each message's outcome.

A batch is sent in slices (``slice_size`` messages' pushes per transport call), and each
slice's outcomes are written before the next slice goes out, so a worker killed mid-batch
leaves at most one slice sent but unrecorded (those go out again: at-least-once). While a batch
is worked on, its lease is renewed every third of the lease, so a slow live worker keeps it and
a dead one's messages are taken over within one lease. A worker that was stalled longer than a
renewal (SIGSTOP, a blocked loop) checks what it still holds before its next slice and leaves
what another worker took over.

Database use per claimed batch (bounded, tested): the claim (three commands), one read each of
the recipients' preferences, consents, devices and today's push counts, one write for the
outcomes that send nothing, then per slice one write of its outcomes (one ``update_many`` for
its deliveries, plus a bulk write only for retries, dead letters and gone tokens), and the
batch's push counts written once at its end. No command is made per message.

Per device: sent -> the message is delivered; UNREGISTERED or an invalid token -> the token is
deleted, no retry; quota exceeded -> retried after at least 60 s; FCM unavailable or internal
errors -> retried with back-off. Retries go only to the devices that failed. After
``MAX_ATTEMPTS`` a message is dead (visible with ``jobunivers outbox``). Preferences: a category
that is off suppresses the push (the inbox keeps the message); quiet hours postpone it to
their end; the daily cap suppresses the rest of the day's pushes. Meeting-critical messages
(cancellations, moves, the 1-hour reminder) go through quiet hours and the cap.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import socket
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pymongo
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import ConnectionFailure, PyMongoError

from . import devices, outbox, payloads, preferences
from .directory import Directory
from .transports import Outcome, PushTransport

log = logging.getLogger(__name__)
RETRY = (Outcome.QUOTA, Outcome.UNAVAILABLE, Outcome.FAILED)
GONE = (Outcome.UNREGISTERED, Outcome.INVALID_TOKEN)
BATCH_TIMEOUT_S = 30.0  # all database calls of one claimed batch together


def new_worker_id() -> str:
    return f"{socket.gethostname()}-{uuid.uuid4().hex[:8]}"


@dataclass
class BatchReport:
    messages: int = 0
    delivered: int = 0
    retried: int = 0
    dead: int = 0
    suppressed: int = 0
    postponed: int = 0
    tokens_removed: int = 0
    fcm_messages: int = 0
    slices: int = 0
    taken_over: int = 0  # left to another worker after this one stalled past its lease
    by_outcome: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)  # where the time went

    def timed(self, phase: str, started: float) -> float:
        now = time.perf_counter()
        self.seconds[phase] = round(self.seconds.get(phase, 0.0) + now - started, 3)
        return now

    def add(self, other: BatchReport) -> None:
        for name in ("messages", "delivered", "retried", "dead", "suppressed", "postponed",
                     "tokens_removed", "fcm_messages", "slices", "taken_over"):  # fmt: skip
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for k, v in other.by_outcome.items():
            self.by_outcome[k] = self.by_outcome.get(k, 0) + v
        for k, v in other.seconds.items():
            self.seconds[k] = round(self.seconds.get(k, 0.0) + v, 3)


class Lease:
    """This worker's hold on one claim: renewed every third of the lease while the batch is
    worked on. Lease ends are written as the batch's ``now`` plus the time elapsed since (a
    monotonic clock), so tests that pass a fixed ``now`` see consistent times."""

    def __init__(self, db: AsyncDatabase, claim: str, length: timedelta, now: datetime) -> None:
        self.db, self.claim, self.length = db, claim, length
        self._now, self._started = now, time.monotonic()
        self.renewed_at = self._started
        self.lapsed = False  # a renewal came so late that the lease may have run out before

    def _until(self) -> datetime:
        return self._now + timedelta(seconds=time.monotonic() - self._started) + self.length

    def _late(self, at: float) -> bool:
        return at - self.renewed_at > self.length.total_seconds() * 2 / 3

    async def renew(self) -> int:
        asked = time.monotonic()
        self.lapsed = self.lapsed or self._late(asked)
        held = await outbox.renew_lease(self.db, self.claim, self._until())
        self.renewed_at = asked
        return held

    def overdue(self) -> bool:
        """True when a renewal was (or is) late by two thirds of the lease: the worker was
        stalled, and another may have taken over some of the batch."""
        return self.lapsed or self._late(time.monotonic())

    async def keep(self) -> None:
        every = self.length.total_seconds() / 3
        while True:
            await asyncio.sleep(max(0.0, self.renewed_at + every - time.monotonic()))
            try:
                await self.renew()
            except Exception:  # a failed renewal is retried on the next beat
                log.warning("lease renewal failed", exc_info=True)
                await asyncio.sleep(min(every, 1.0))


@dataclass
class _Plan:
    """What the batch's first pass decided: outcomes needing no send, and the sends."""

    ops: list = field(default_factory=list)
    pushed_by: dict[object, list] = field(default_factory=dict)  # id -> (token, FCM message)
    pushed: dict[str, int] = field(default_factory=lambda: defaultdict(int))  # sent, by user


async def process_batch(
    db: AsyncDatabase,
    transport: PushTransport,
    directory: Directory,
    messages: list[dict],
    now: datetime,
    rng: random.Random | None = None,
    *,
    lease: timedelta | None = None,
    slice_size: int = 50,
) -> BatchReport:
    """Work one claimed batch. With ``lease``, the claim is renewed while it runs."""
    report = BatchReport(messages=len(messages))
    if not messages:
        return report
    claim = messages[0]["claim"]
    held = Lease(db, claim, lease, now) if lease else None
    beat = asyncio.create_task(held.keep()) if held else None
    try:
        await _process(db, transport, directory, messages, now, rng, report, held, slice_size)
    finally:
        if beat is not None:
            beat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beat
    return report


async def _process(
    db: AsyncDatabase,
    transport: PushTransport,
    directory: Directory,
    messages: list[dict],
    now: datetime,
    rng: random.Random | None,
    report: BatchReport,
    held: Lease | None,
    slice_size: int,
) -> None:
    t = time.perf_counter()
    recipients = sorted({m["recipientId"] for m in messages})
    prefs = await preferences.for_users(db, directory, recipients)
    owned = await devices.of_users(db, recipients)
    today = await preferences.pushed_today(db, recipients, now)
    t = report.timed("read_recipients", t)
    plan = _plan(messages, prefs, owned, today, now, report)
    t = report.timed("build", t)
    await outbox.apply(db, plan.ops)  # these send nothing: written before the first slice
    t = report.timed("write_outcomes", t)
    # Slices in _id order, so each slice is one _id range of the claim (one update marks it;
    # ids are the inbox's uuid hex strings, which Python and the database order alike).
    sending = sorted((m for m in messages if m["_id"] in plan.pushed_by), key=lambda m: m["_id"])
    while sending:
        if held is not None and held.overdue():
            t = time.perf_counter()
            await held.renew()
            still = await outbox.held_ids(db, held.claim)
            held.lapsed = False
            kept = [m for m in sending if m["_id"] in still]
            report.taken_over += len(sending) - len(kept)
            sending = kept
            report.timed("lease", t)
            continue
        part, sending = sending[:slice_size], sending[slice_size:]
        await _send_slice(db, transport, part, plan, now, rng, report)
    # The daily cap's counts, once for the whole batch (a worker killed mid-batch loses its
    # batch's counts: the cap then lets that many more through that day). Users with no count
    # today yet get theirs inserted, much cheaper than an upsert on the embedded server.
    t = time.perf_counter()
    await preferences.count_pushes(db, plan.pushed, now, new=set(plan.pushed) - set(today))
    report.timed("count_pushes", t)


def _plan(messages, prefs, owned, today, now, report: BatchReport) -> _Plan:
    plan = _Plan()
    planned: dict[str, int] = defaultdict(int)
    for m in messages:
        # The claim counted an attempt; one that sends nothing gives it back.
        not_tried = m["attempts"] - 1
        if m["attempts"] > outbox.MAX_ATTEMPTS:  # its workers kept dying with it
            errors = sorted({*(m.get("lastError") or []), outbox.WORKER_LOST})
            plan.ops.append(outbox.done(m, outbox.DEAD, now, attempts=not_tried,
                                        lastError=errors))  # fmt: skip
            report.dead += 1
            continue
        who = m["recipientId"]
        p = prefs[who]
        if not p.allows(m["category"]):
            plan.ops.append(outbox.done(m, outbox.SUPPRESSED, now, reason="CATEGORY_OFF",
                                        attempts=not_tried))  # fmt: skip
            report.suppressed += 1
            continue
        if not m.get("critical"):
            until = p.quiet_until(now)
            if until is not None:
                plan.ops.append(outbox.later(m, until.astimezone(UTC), attempts=not_tried,
                                             postponedFor="QUIET_HOURS"))  # fmt: skip
                report.postponed += 1
                continue
            if today.get(who, 0) + planned[who] >= p.daily_cap:
                plan.ops.append(outbox.done(m, outbox.SUPPRESSED, now, reason="DAILY_CAP",
                                            attempts=not_tried))  # fmt: skip
                report.suppressed += 1
                continue
        tokens = m.get("tokens") or [d["_id"] for d in owned.get(who, [])]
        if not tokens:
            plan.ops.append(outbox.done(m, outbox.SUPPRESSED, now, reason="NO_DEVICE",
                                        attempts=not_tried))  # fmt: skip
            report.suppressed += 1
            continue
        planned[who] += 1
        plan.pushed_by[m["_id"]] = [(token, payloads.build(m, token, now)) for token in tokens]
    return plan


async def _send_slice(
    db: AsyncDatabase,
    transport: PushTransport,
    part: list[dict],
    plan: _Plan,
    now: datetime,
    rng: random.Random | None,
    report: BatchReport,
) -> None:
    """Send one slice and write its outcomes before returning."""
    t = time.perf_counter()
    sends = [(m, token, fcm) for m in part for token, fcm in plan.pushed_by[m["_id"]]]
    outcomes = await transport.send([fcm for _, _, fcm in sends])
    t = report.timed("send", t)
    report.fcm_messages += len(sends)
    report.slices += 1
    results: dict[object, list[tuple[str, Outcome]]] = defaultdict(list)
    for (m, token, _), outcome in zip(sends, outcomes, strict=True):
        results[m["_id"]].append((token, outcome))
        report.by_outcome[outcome.value] = report.by_outcome.get(outcome.value, 0) + 1
    gone = [t for rs in results.values() for t, o in rs if o in GONE]
    ops = []
    plain = 0
    for m in part:
        rs = results[m["_id"]]
        attempts = m["attempts"]  # this attempt included (counted at the claim)
        sent = [t for t, o in rs if o is Outcome.SENT]
        retry = [t for t, o in rs if o in RETRY]
        errors = sorted({o.value for t, o in rs if o is not Outcome.SENT})
        delivered_at = m.get("deliveredAt") or (now if sent else None)
        if sent:
            plan.pushed[m["recipientId"]] += 1
        if retry and attempts < outbox.MAX_ATTEMPTS:
            quota = any(o is Outcome.QUOTA for _, o in rs)
            due = now + outbox.retry_delay(attempts, quota, rng)
            ops.append(outbox.later(m, due, tokens=retry, lastError=errors,
                                    **({"deliveredAt": delivered_at} if delivered_at else {})))  # fmt: skip
            report.retried += 1
        elif retry or (not sent and Outcome.BAD_MESSAGE.value in errors):
            ops.append(outbox.done(m, outbox.DEAD, now, lastError=errors))
            report.dead += 1
        elif sent and not m.get("deliveredAt"):
            plain += 1  # the common case: one update for the whole slice, below
        elif delivered_at:
            ops.append(outbox.done(m, outbox.DELIVERED, now, deliveredAt=delivered_at))
            report.delivered += 1
        else:  # every device turned out to be gone
            ops.append(outbox.done(m, outbox.SUPPRESSED, now, reason="NO_DEVICE"))
            report.suppressed += 1

    report.tokens_removed += await devices.remove_tokens(db, gone)
    await outbox.apply(db, ops)  # every other outcome first: each leaves the claim ...
    if plain:  # ... so what of this slice still holds the claim was delivered
        report.delivered += await outbox.delivered_in_range(
            db, part[0]["claim"], part[0]["_id"], part[-1]["_id"], now
        )
    report.timed("write_outcomes", t)


async def drain_once(
    db: AsyncDatabase,
    transport: PushTransport,
    directory: Directory,
    worker_id: str,
    lease: timedelta,
    *,
    batch_size: int = 500,
    slice_size: int = 50,
    now: datetime | None = None,
) -> BatchReport:
    """Send every due message; returns what happened. Each batch is claimed under ``lease``
    (renewed while the batch is worked on) and sent ``slice_size`` messages at a time."""
    total = BatchReport()
    while True:
        at = now or datetime.now(UTC)
        t = time.perf_counter()
        # The claim keeps the per-call limit: an unreachable database fails it at once.
        batch = await outbox.claim_batch(db, worker_id, lease, batch_size, at)
        total.timed("claim", t)
        if not batch:
            return total
        # A claimed batch's database work has its own budget, not the per-call limit meant
        # for a user's request: a slow bulk write that gave up after its sends would leave
        # those messages claimed but unrecorded, to be sent again once the lease ran out.
        with pymongo.timeout(BATCH_TIMEOUT_S):
            total.add(await process_batch(db, transport, directory, batch, at, lease=lease,
                                          slice_size=slice_size))  # fmt: skip


async def run_worker(
    db: AsyncDatabase,
    transport: PushTransport,
    directory: Directory,
    stop: asyncio.Event,
    *,
    poll_interval_s: float = 1.0,
    lease: timedelta = timedelta(seconds=10),
    slice_size: int = 50,
    heartbeat: Path | None = None,
) -> None:
    """``heartbeat``: a file touched at every turn of the loop (also when the turn fails: a
    database outage is not a dead worker); its age is the worker's liveness for orchestrators
    (`jobunivers healthcheck worker`)."""
    worker_id = new_worker_id()
    log.info("push worker started", extra={"worker_id": worker_id})
    last_sweep = 0.0
    while not stop.is_set():
        if heartbeat is not None:
            await asyncio.to_thread(heartbeat.touch)
        try:
            report = await drain_once(db, transport, directory, worker_id, lease,
                                      slice_size=slice_size)  # fmt: skip
            if report.messages:
                log.info("push batch", extra={"worker_id": worker_id, **report.by_outcome,
                                              "messages": report.messages})  # fmt: skip
            if time.monotonic() - last_sweep > 3600:
                await devices.remove_stale(db)
                last_sweep = time.monotonic()
        except PyMongoError as exc:
            if isinstance(exc, ConnectionFailure) or exc.timeout:  # an outage: one line
                log.warning("push worker waiting: database unavailable; retrying")
            else:
                log.exception("push worker iteration failed; retrying")
        except Exception:
            log.exception("push worker iteration failed; retrying")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=poll_interval_s)
    log.info("push worker stopped", extra={"worker_id": worker_id})
