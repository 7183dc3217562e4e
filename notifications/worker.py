"""The push worker: claims outbox batches under a lease, applies each recipient's preferences,
sends to every device through the transport, and records each message's outcome.

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

from pymongo.asynchronous.database import AsyncDatabase

from . import devices, outbox, payloads, preferences
from .directory import Directory
from .transports import Outcome, PushTransport

log = logging.getLogger(__name__)
RETRY = (Outcome.QUOTA, Outcome.UNAVAILABLE, Outcome.FAILED)
GONE = (Outcome.UNREGISTERED, Outcome.INVALID_TOKEN)


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
    by_outcome: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)  # where the time went

    def timed(self, phase: str, started: float) -> float:
        now = time.perf_counter()
        self.seconds[phase] = round(self.seconds.get(phase, 0.0) + now - started, 3)
        return now

    def add(self, other: BatchReport) -> None:
        for name in ("messages", "delivered", "retried", "dead", "suppressed", "postponed",
                     "tokens_removed", "fcm_messages"):  # fmt: skip
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for k, v in other.by_outcome.items():
            self.by_outcome[k] = self.by_outcome.get(k, 0) + v
        for k, v in other.seconds.items():
            self.seconds[k] = round(self.seconds.get(k, 0.0) + v, 3)


async def process_batch(
    db: AsyncDatabase,
    transport: PushTransport,
    directory: Directory,
    messages: list[dict],
    now: datetime,
    rng: random.Random | None = None,
) -> BatchReport:
    report = BatchReport(messages=len(messages))
    t = time.perf_counter()
    recipients = sorted({m["recipientId"] for m in messages})
    prefs = await preferences.for_users(db, directory, recipients)
    owned = await devices.of_users(db, recipients)
    today = await preferences.pushed_today(db, recipients, now)
    t = report.timed("read_recipients", t)
    planned: dict[str, int] = defaultdict(int)
    ops = []
    sends: list[tuple[dict, str]] = []
    fcm = []
    for m in messages:
        who = m["recipientId"]
        p = prefs[who]
        if not p.allows(m["category"]):
            ops.append(outbox.done(m, outbox.SUPPRESSED, now, reason="CATEGORY_OFF"))
            report.suppressed += 1
            continue
        if not m.get("critical"):
            until = p.quiet_until(now)
            if until is not None:
                ops.append(outbox.later(m, until.astimezone(UTC), postponedFor="QUIET_HOURS"))
                report.postponed += 1
                continue
            if today.get(who, 0) + planned[who] >= p.daily_cap:
                ops.append(outbox.done(m, outbox.SUPPRESSED, now, reason="DAILY_CAP"))
                report.suppressed += 1
                continue
        tokens = m.get("tokens") or [d["_id"] for d in owned.get(who, [])]
        if not tokens:
            ops.append(outbox.done(m, outbox.SUPPRESSED, now, reason="NO_DEVICE"))
            report.suppressed += 1
            continue
        planned[who] += 1
        for token in tokens:
            sends.append((m, token))
            fcm.append(payloads.build(m, token, now))
    t = report.timed("build", t)
    outcomes = await transport.send(fcm) if fcm else []
    t = report.timed("send", t)
    report.fcm_messages = len(fcm)
    results: dict[object, list[tuple[str, Outcome]]] = defaultdict(list)
    for (m, token), outcome in zip(sends, outcomes, strict=True):
        results[m["_id"]].append((token, outcome))
        report.by_outcome[outcome.value] = report.by_outcome.get(outcome.value, 0) + 1
    gone = [t for rs in results.values() for t, o in rs if o in GONE]
    pushed: dict[str, int] = defaultdict(int)
    by_id = {m["_id"]: m for m in messages}
    plain_claims: set[str] = set()
    for mid, rs in results.items():
        m = by_id[mid]
        attempts = m.get("attempts", 0) + 1
        sent = [t for t, o in rs if o is Outcome.SENT]
        retry = [t for t, o in rs if o in RETRY]
        errors = sorted({o.value for t, o in rs if o is not Outcome.SENT})
        if sent:
            pushed[m["recipientId"]] += 1
        if retry and attempts < outbox.MAX_ATTEMPTS:
            quota = any(o is Outcome.QUOTA for _, o in rs)
            due = now + outbox.retry_delay(attempts, quota, rng)
            ops.append(outbox.later(m, due, attempts=attempts, tokens=retry, lastError=errors,
                                    **({"deliveredAt": now} if sent else {})))  # fmt: skip
            report.retried += 1
        elif retry or (not sent and Outcome.BAD_MESSAGE.value in errors):
            ops.append(outbox.done(m, outbox.DEAD, now, attempts=attempts, lastError=errors))
            report.dead += 1
        elif sent and not m.get("deliveredAt") and not m.get("attempts"):
            plain_claims.add(m["claim"])  # the common case: one update for the whole claim
            report.delivered += 1
        elif sent or m.get("deliveredAt"):
            ops.append(outbox.done(m, outbox.DELIVERED, now, attempts=attempts,
                                   deliveredAt=m.get("deliveredAt") or now))  # fmt: skip
            report.delivered += 1
        else:  # every device turned out to be gone
            ops.append(outbox.done(m, outbox.SUPPRESSED, now, attempts=attempts,
                                   reason="NO_DEVICE"))  # fmt: skip
            report.suppressed += 1
    report.tokens_removed = await devices.remove_tokens(db, gone)
    await outbox.apply(db, ops)  # every other outcome first: each leaves its claim ...
    for claim in plain_claims:  # ... so what still holds the claim was delivered at once
        await outbox.delivered_rest_of_claim(db, claim, now)
    t = report.timed("write_outcomes", t)
    await preferences.count_pushes(db, pushed, now)
    report.timed("count_pushes", t)
    return report


async def drain_once(
    db: AsyncDatabase,
    transport: PushTransport,
    directory: Directory,
    worker_id: str,
    lease: timedelta,
    *,
    batch_size: int = 500,
    now: datetime | None = None,
) -> BatchReport:
    """Send every due message; returns what happened."""
    total = BatchReport()
    while True:
        at = now or datetime.now(UTC)
        t = time.perf_counter()
        batch = await outbox.claim_batch(db, worker_id, lease, batch_size, at)
        total.timed("claim", t)
        if not batch:
            return total
        total.add(await process_batch(db, transport, directory, batch, at))


async def run_worker(
    db: AsyncDatabase,
    transport: PushTransport,
    directory: Directory,
    stop: asyncio.Event,
    *,
    poll_interval_s: float = 1.0,
    lease: timedelta = timedelta(seconds=60),
) -> None:
    worker_id = new_worker_id()
    log.info("push worker started", extra={"worker_id": worker_id})
    last_sweep = 0.0
    while not stop.is_set():
        try:
            report = await drain_once(db, transport, directory, worker_id, lease)
            if report.messages:
                log.info("push batch", extra={"worker_id": worker_id, **report.by_outcome,
                                              "messages": report.messages})  # fmt: skip
            if time.monotonic() - last_sweep > 3600:
                await devices.remove_stale(db)
                last_sweep = time.monotonic()
        except Exception:
            log.exception("push worker iteration failed; retrying")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=poll_interval_s)
    log.info("push worker stopped", extra={"worker_id": worker_id})
