"""Real push worker processes against the fake FCM server, for fault tests and benchmarks.

A ``PushStack`` is a database (URI and name), a fake FCM server (``FakeFcm``, in this process so
every received push can be counted per token) and the worker settings; ``start_worker`` starts
``jobunivers worker`` (through ``tests.notifications.fcm_worker``) as a child process.
``seed_pushes`` queues critical pushes (they go through quiet hours and the daily cap, so the
scenario runs the same at any hour) to one device each. ``worker_kill_scenario`` (seeding
included; ``worker_kill`` for other seedings) and ``workers_side_by_side`` run whole
scenarios and return what they measured.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from pymongo import MongoClient

from api.citizens import repository as citizens
from api.indexes import all_index_specs
from notifications import devices, outbox
from notifications.fake_fcm import FakeFcm
from notifications.inbox import Text, notify
from store import collections as c
from store.client import Store
from store.indexes import ensure_indexes

REPO = Path(__file__).resolve().parents[2]
# Bounded, and far above the few seconds 1,000 pushes take here: a CI machine running the
# other test process beside this one can be several times slower.
DELIVERY_WAIT_S = 180


@dataclass
class PushStack:
    db_uri: str
    database: str
    fake: FakeFcm
    logs: Path  # each worker's output goes to <logs>/<name>.log
    lease_s: float = 10.0
    slice_size: int = 50
    poll_s: float = 0.5
    workers: list[subprocess.Popen] = field(default_factory=list)
    _client: MongoClient | None = None

    @property
    def _outbox(self):
        if self._client is None:
            self._client = MongoClient(self.db_uri, tz_aware=True)
        return self._client[self.database][c.OUTBOX]

    def env(self) -> dict[str, str]:
        return {
            **{k: v for k, v in os.environ.items() if not k.startswith("JOBUNIVERS_")},
            "JOBUNIVERS_MONGODB_URI": self.db_uri,
            "JOBUNIVERS_DATABASE_NAME": self.database,
            "JOBUNIVERS_DATA_DIR": str(self.logs),
            "JOBUNIVERS_PUSH_TRANSPORT": "fcm",
            "JOBUNIVERS_WORKER_LEASE_S": str(self.lease_s),
            "JOBUNIVERS_WORKER_SLICE_SIZE": str(self.slice_size),
            "JOBUNIVERS_WORKER_POLL_INTERVAL_S": str(self.poll_s),
            "JOBUNIVERS_LOG_JSON": "true",
        }

    def start_worker(self, name: str) -> subprocess.Popen:
        self.logs.mkdir(parents=True, exist_ok=True)
        with open(self.logs / f"{name}.log", "wb") as sink:
            proc = subprocess.Popen(
                [sys.executable, "-m", "tests.notifications.fcm_worker", "--fcm-url",
                 self.fake.url],
                cwd=REPO, env=self.env(), stdout=sink, stderr=subprocess.STDOUT,
            )  # fmt: skip
        self.workers.append(proc)
        return proc

    def close(self) -> None:
        self.stop_workers()
        if self._client is not None:
            self._client.close()

    def stop_workers(self) -> None:
        """SIGTERM (a clean stop) to those still running; SIGKILL after 10 s."""
        for proc in self.workers:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.workers:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)

    def outbox(self, query: dict | None = None, fields: dict | None = None) -> list[dict]:
        return list(self._outbox.find(query or {}, fields))

    def claims(self, query: dict) -> list[dict]:
        """Lease documents of claimed batches (``outbox_claims``)."""
        self.outbox({"_id": None})  # opens the client
        assert self._client is not None
        return list(self._client[self.database][c.OUTBOX_CLAIMS].find(query))

    def count(self, query: dict) -> int:
        return self._outbox.count_documents(query)

    def describe(self) -> str:
        """The outbox by status, attempts and last error, each worker's exit code and the end
        of its log: what a timed-out wait reports."""
        states = Counter(
            (d.get("status"), d.get("attempts"), tuple(d.get("lastError") or ()))
            for d in self._outbox.find({}, {"status": 1, "attempts": 1, "lastError": 1})
        )
        lines = [f"outbox (status, attempts, last error): {dict(states)}",
                 f"fake FCM received {len(self.fake.received)} pushes"]  # fmt: skip
        for log_file in sorted(self.logs.glob("*.log")):
            tail = log_file.read_text(errors="replace").splitlines()[-15:]
            lines.append(f"--- {log_file.name} (last {len(tail)} lines)")
            lines.extend(tail)
        lines.append(f"worker exit codes: {[p.poll() for p in self.workers]}")
        return "\n".join(lines)


def seed_pushes(db_uri: str, database: str, n: int, token_prefix: str = "slow") -> list[str]:
    """``n`` citizens with one device each (token ``<token_prefix>-<i>``, whose prefix picks how
    the fake FCM answers) and one critical push due now for each; returns the tokens. The
    first citizen's device and push are made by the real functions and the rest are copies of
    those documents written in bulk (one by one, 1,000 take ~15 s on the embedded server)."""

    async def seed() -> None:
        store = Store(db_uri, database)
        db, now = store.db, datetime.now(UTC)
        await ensure_indexes(db, all_index_specs())
        users = [f"citizen-{token_prefix}-{i}" for i in range(n)]
        token = dict(zip(users, tokens, strict=True))
        await citizens.insert_citizens(db, [{"_id": u, "consents": {}} for u in users])
        await devices.register(db, user_id=users[0], role="citizen",
                               token=token[users[0]], platform="ANDROID",
                               app_version="1", locale="da", now=now)  # fmt: skip
        await notify(db, recipient_id=users[0], recipient_role="citizen", category="MEETINGS",
                     key=f"meeting-moved:{users[0]}", text=Text("Mødet er flyttet",
                     "Se tidspunktet", "Meeting moved", "See the time"), route="/meetings/m1",
                     payload_type="meeting-update", critical=True, now=now)  # fmt: skip
        device = await db[c.DEVICES].find_one({"userId": users[0]})
        entry = await db[c.INBOX].find_one({"recipientId": users[0]})
        push = await db[c.OUTBOX].find_one({"recipientId": users[0]})
        rest = users[1:]
        if rest:
            ids = {u: uuid.uuid4().hex for u in rest}
            key = lambda u: f"meeting-moved:{u}"  # noqa: E731
            await db[c.DEVICES].insert_many(
                [{**device, "_id": token[u], "userId": u} for u in rest]
            )
            await db[c.INBOX].insert_many(
                [{**entry, "_id": ids[u], "recipientId": u, "key": key(u)} for u in rest]
            )
            await db[c.OUTBOX].insert_many(
                [{**push, "_id": ids[u], "inboxId": ids[u], "recipientId": u, "key": key(u),
                  "idempotencyKey": f"{u}:{key(u)}"} for u in rest]
            )  # fmt: skip
        await store.close()

    tokens = [f"{token_prefix}-{i}" for i in range(n)]
    asyncio.run(seed())
    return tokens


def wait_for(
    predicate: Callable[[], bool],
    timeout_s: float,
    what: str,
    every: float = 0.05,
    state: Callable[[], str] | None = None,
):
    """Poll ``predicate`` until true; on a timeout the error says what ``state`` reports (the
    outbox and the workers' logs), so a failure on a loaded CI machine can be read later."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(every)
    detail = f"\n{state()}" if state is not None else ""
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}{detail}")


def kill9(proc: subprocess.Popen) -> float:
    """SIGKILL (no clean-up of any kind); returns the monotonic time of the kill."""
    os.kill(proc.pid, signal.SIGKILL)
    killed_at = time.monotonic()
    proc.wait(timeout=10)
    return killed_at


@dataclass
class WorkerKill:
    messages: int
    delivered: int  # outbox messages delivered in the end
    lost: int  # tokens the fake FCM never received
    duplicates: int  # tokens the fake FCM received more than once
    sent_before_kill: int  # pushes the fake FCM had received when the worker was killed
    held_at_kill: int  # messages still leased by the killed worker (read just after the kill)
    recorded_after_kill: int  # of those, recorded by the killed worker's last write: sent to
    # the database before the kill and applied after it (so, delivered with one attempt)
    batch_age_at_kill_s: float  # since the fake received the killed batch's first push
    lease_left_at_kill_s: float  # until the killed batch's lease (its lease document) ran out
    takeover_s: float  # from the kill to another worker's claim on the first of those
    taken_over_attempts: Counter  # attempts recorded in the end on the others, taken over
    other_attempts: Counter  # attempts recorded on every other message
    seconds: float  # the whole scenario, from the first worker's start


def worker_kill(
    stack: PushStack, tokens: list[str], kill_after_received: int, batch_starts_after: int = 0
) -> WorkerKill:
    """One worker pushes the seeded messages. When the fake FCM receives push number
    ``batch_starts_after`` + 1 (the first of the batch to be cut short) a second worker is
    started beside it (it finds nothing to claim while the first holds its lease); once the
    fake has received ``kill_after_received`` pushes the first is killed with SIGKILL. Returns
    what was delivered, lost and sent twice, and how soon the second worker took over what the
    first still held."""
    started = time.monotonic()
    first = stack.start_worker("worker-killed")
    wait_for(lambda: len(stack.fake.received) > batch_starts_after, 60, "the batch's start")
    batch_started = time.monotonic()
    owner = {d["leaseOwner"] for d in stack.outbox({"status": outbox.SENDING})}
    assert len(owner) == 1, owner  # only the first worker runs so far
    stack.start_worker("worker-takeover")
    wait_for(lambda: len(stack.fake.received) >= kill_after_received, 60, "the first sends")
    killed_at = kill9(first)
    killed_at_wall = datetime.now(UTC)
    sent_before_kill = len(stack.fake.received)
    held = {d["_id"]: d for d in stack.outbox({"status": outbox.SENDING,
                                               "leaseOwner": owner.pop()})}  # fmt: skip
    dead_claims = sorted({d["claim"] for d in held.values()})

    def taken_over() -> bool:  # another worker's claim counts its attempt
        return stack.count({"_id": {"$in": list(held)}, "attempts": {"$gte": 2}}) > 0

    takeover_s = lease_left_s = float("nan")
    if held:
        # The lease is the claim's lease document (the messages' dueAt is its first end only).
        ends = [d["until"] for d in stack.claims({"_id": {"$in": dead_claims}})]
        lease_left_s = (min(ends) - killed_at_wall).total_seconds() if ends else float("-inf")
        wait_for(taken_over, stack.lease_s + 30, "the takeover", every=0.05)
        takeover_s = time.monotonic() - killed_at
    wait_for(lambda: stack.count({"status": outbox.DELIVERED}) == len(tokens), DELIVERY_WAIT_S,
             "every message delivered", every=0.2, state=stack.describe)  # fmt: skip
    stack.stop_workers()
    received = Counter(stack.fake.tokens())
    docs = stack.outbox({}, {"attempts": 1, "status": 1})
    return WorkerKill(
        messages=len(tokens),
        delivered=sum(d["status"] == outbox.DELIVERED for d in docs),
        lost=sum(1 for t in tokens if not received[t]),
        duplicates=sum(1 for t in tokens if received[t] > 1),
        sent_before_kill=sent_before_kill,
        held_at_kill=len(held),
        batch_age_at_kill_s=round(killed_at - batch_started, 2),
        lease_left_at_kill_s=round(lease_left_s, 2),
        takeover_s=round(takeover_s, 2),
        recorded_after_kill=sum(1 for d in docs if d["_id"] in held and d["attempts"] == 1),
        taken_over_attempts=Counter(
            d["attempts"] for d in docs if d["_id"] in held and d["attempts"] != 1
        ),
        other_attempts=Counter(d["attempts"] for d in docs if d["_id"] not in held),
        seconds=round(time.monotonic() - started, 1),
    )


def worker_kill_scenario(stack: PushStack, batch: int = 500, kill_in_slice: int = 6) -> WorkerKill:
    """The whole worker-kill scenario on an empty database: a quick batch of ``ok-`` pushes,
    then a batch of ``slow-`` ones due after it (the fake's ``slow_s`` makes that batch
    outlive the lease, so only renewals keep it). The second worker starts as the slow batch
    does (so the takeover time is the lease's, not a start-up's) and the first is killed while
    slice ``kill_in_slice`` of that batch is with FCM. ``batch`` is drain_once's batch_size."""
    tokens = seed_pushes(stack.db_uri, stack.database, batch, token_prefix="ok")
    tokens += seed_pushes(stack.db_uri, stack.database, batch, token_prefix="slow")
    in_flight = batch + (kill_in_slice - 1) * stack.slice_size + 10
    return worker_kill(stack, tokens, kill_after_received=in_flight, batch_starts_after=batch)


def workers_side_by_side(stack: PushStack, tokens: list[str], workers: int) -> Counter:
    """``workers`` worker processes at once until every message is delivered; returns how
    often the fake FCM received each token."""
    for i in range(workers):
        stack.start_worker(f"worker-{i}")
    wait_for(lambda: stack.count({"status": outbox.DELIVERED}) == len(tokens), DELIVERY_WAIT_S,
             "every message delivered", every=0.2, state=stack.describe)  # fmt: skip
    stack.stop_workers()
    return Counter(stack.fake.tokens())
