"""The faults of an operator's bad day, injected into a running scratch stack
(jobunivers/scratch.py) while app traffic flows: `jobunivers bench faults` prints, per fault,
acknowledged writes against what is found afterwards, time to recover and the codes seen.

Writes are the app's own: `addJobApplication` (one insert) and `swipe` NO (a transaction),
alternating, for distinct citizen/offer pairs. A write counts as acknowledged when the API
answered it without an error; afterwards each one is looked up through the owning repository.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import random
import signal
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx

from api.auth.actor import Role
from api.citizens.repository import some_citizen_ids
from api.joblog.repository import get_entry
from api.meetings.repository import get_swipe
from api.offers.repository import open_offers
from store.client import Store

from .scratch import ACCEPT, ADD_APPLICATION, SWIPE, Answer, ScratchStack, Traffic, percentile


@dataclass
class Workload:
    stack: ScratchStack
    citizens: list[str]
    offers: list[str]

    @classmethod
    async def of(cls, stack: ScratchStack) -> Workload:
        store = Store(stack.db_uri, "jobunivers")
        try:
            citizens = await some_citizen_ids(store.db, 10_000)
            offers = [o["_id"] for o in await open_offers(store.db, datetime.now(UTC))]
        finally:
            await store.close()
        workload = cls(stack, citizens, offers)
        workload._pairs = itertools.product(offers, citizens)
        workload._tokens = {c: stack.token(c) for c in citizens}
        return workload

    def call(self, traffic: Traffic, client: httpx.AsyncClient, i: int):
        if i % 2 == 0 or not self.offers:
            citizen = self.citizens[i % len(self.citizens)]
            variables = {
                "input": {
                    "appliedOn": datetime.now(UTC).date().isoformat(),
                    "form": "WRITTEN",
                    "companyName": "Fejltest ApS",
                    "jobTitle": "Lagerarbejder",
                }
            }
            return traffic.call(
                client,
                self._tokens[citizen],
                ADD_APPLICATION,
                variables,
                lambda d, c=citizen: ("joblog", c, d["addJobApplication"]["id"]),
            )
        offer, citizen = next(self._pairs)
        return traffic.call(
            client,
            self._tokens[citizen],
            SWIPE,
            {"offerId": offer, "decision": "NO"},
            lambda d, c=citizen, o=offer: ("swipe", c, o),
        )

    def flowing(self, rate: float, seconds: float) -> tuple[Traffic, asyncio.Task]:
        """This workload's requests at ``rate`` for ``seconds``, started in the background:
        the traffic (its answers so far) and the task to await for the rest."""
        traffic = Traffic(self.stack.url)
        run = asyncio.create_task(
            traffic.run(rate, seconds, lambda client, i: self.call(traffic, client, i))
        )
        return traffic, run

    async def missing(self, acknowledged: list) -> int:
        """How many acknowledged writes are not in the database now."""
        store = Store(self.stack.db_uri, "jobunivers")
        try:
            lost = 0
            for kind, citizen, key in acknowledged:
                if kind == "joblog":
                    found = await get_entry(store.db, citizen, key)
                else:
                    found = await get_swipe(store.db, citizen, key)
                lost += found is None
            return lost
        finally:
            await store.close()


def _kill(pid: int | None, sig: signal.Signals = signal.SIGKILL) -> None:
    if pid is not None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)


def _recovered_after(answers: list[Answer], since: float) -> float | None:
    """Seconds from ``since`` to the end of the first acknowledged answer sent after it."""
    ends = [a.started + a.seconds for a in answers if a.started >= since and a.code == "OK"]
    return round(min(ends) - since, 2) if ends else None


def _failed_answers(answers: list[Answer]) -> dict:
    failed = [a.seconds for a in answers if a.code != "OK"]
    return {
        "failed": len(failed),
        "failed_max_s": round(max(failed), 2) if failed else 0.0,
    }


async def kill_database(stack: ScratchStack, rate: float, seconds: float) -> dict:
    """kill -9 of the database under traffic; the supervisor restarts it."""
    workload = await Workload.of(stack)
    traffic, run = workload.flowing(rate, seconds)
    await asyncio.sleep(seconds / 4)
    old = stack.pids().get("database")
    killed_at = time.monotonic()
    _kill(old)
    new = await asyncio.to_thread(stack.wait_for_new, "database", old, 60)
    restarted_s = round(time.monotonic() - killed_at, 2) if new else None
    await run
    await asyncio.to_thread(stack.wait_ready, 60)
    acknowledged = traffic.acknowledged()
    return {
        "fault": "kill -9 database",
        "rate": rate,
        "acknowledged": len(acknowledged),
        "lost": await workload.missing(acknowledged),
        "database_restarted_s": restarted_s,
        "api_answering_again_s": _recovered_after(traffic.answers, killed_at),
        **_failed_answers(traffic.answers),
        "codes": traffic.codes(),
    }


async def _kill_once_acknowledged(
    stack: ScratchStack, workload: Workload, target: int, with_api: bool
) -> tuple[Traffic, float]:
    """Eight writers until ``target`` writes are acknowledged, then kill -9 at once (in the
    same step as the acknowledgement, before another task runs); returns the traffic and when."""
    traffic = Traffic(stack.url)
    stop = asyncio.Event()
    pids = stack.pids()
    counter = itertools.count()
    killed_at: list[float] = []

    async def writer(client: httpx.AsyncClient) -> None:
        while not stop.is_set():
            answer = await workload.call(traffic, client, next(counter))
            enough = len(traffic.acknowledged()) >= target
            if answer.code == "OK" and enough and not stop.is_set():
                stop.set()
                _kill(pids.get("database"))
                if with_api:
                    _kill(pids.get("api"))
                killed_at.append(time.monotonic())

    async with httpx.AsyncClient(timeout=30) as client:
        await asyncio.gather(*(writer(client) for _ in range(8)), return_exceptions=True)
    await asyncio.to_thread(stack.wait_for_new, "database", pids.get("database"), 60)
    return traffic, killed_at[0] if killed_at else time.monotonic()


async def kill_right_after_acknowledged(
    stack: ScratchStack, runs: int, with_api: bool, seed: int = 7
) -> dict:
    """kill -9 of the database (and the API) right after an acknowledged write, with more
    writes in flight; then count. ``runs`` times, the supervisor restarting it each time."""
    rng = random.Random(seed)
    workload = await Workload.of(stack)
    acknowledged_total, lost_total, lost_runs, recover = 0, 0, 0, []
    kinds: Counter[str] = Counter()
    for _ in range(runs):
        traffic, killed_at = await _kill_once_acknowledged(
            stack, workload, rng.randint(20, 80), with_api
        )
        if not await asyncio.to_thread(stack.wait_ready, 120):
            raise RuntimeError("the stack did not come back after a kill")
        recover.append(time.monotonic() - killed_at)
        acknowledged = traffic.acknowledged()
        kinds.update(kind for kind, _, _ in acknowledged)
        lost = await workload.missing(acknowledged)
        acknowledged_total += len(acknowledged)
        lost_total += lost
        lost_runs += lost > 0
    return {
        "fault": "kill -9 database" + (" and API" if with_api else "") + " right after an ack",
        "runs": runs,
        "acknowledged": acknowledged_total,
        "lost": lost_total,
        "runs_with_loss": lost_runs,
        "kinds": dict(kinds),
        "ready_again_p50_s": round(percentile(recover, 50), 2),
        "ready_again_max_s": round(max(recover), 2) if recover else None,
    }


async def stall_database(stack: ScratchStack, rate: float, seconds: float, stall_s: float) -> dict:
    """SIGSTOP of the database for ``stall_s`` under traffic, then SIGCONT."""
    workload = await Workload.of(stack)
    traffic, run = workload.flowing(rate, seconds)
    await asyncio.sleep(min(3.0, seconds / 5))
    pid = stack.pids().get("database")
    stopped_at = time.monotonic()
    _kill(pid, signal.SIGSTOP)
    readyz = []
    try:
        async with httpx.AsyncClient(timeout=10) as client:
            while time.monotonic() - stopped_at < stall_s:
                with contextlib.suppress(httpx.HTTPError):
                    readyz.append((await client.get(f"{stack.url}/readyz")).status_code)
                await asyncio.sleep(1.0)
    finally:
        _kill(pid, signal.SIGCONT)
    resumed_at = time.monotonic()
    await run
    during = [a for a in traffic.answers if stopped_at <= a.started < resumed_at]
    acknowledged = traffic.acknowledged()
    return {
        "fault": f"database stalled (SIGSTOP) {stall_s:.0f} s",
        "rate": rate,
        "acknowledged": len(acknowledged),
        "lost": await workload.missing(acknowledged),
        "answers_during_stall": len(during),
        "during_max_s": round(max((a.seconds for a in during), default=0.0), 2),
        "during_p99_s": round(percentile([a.seconds for a in during], 99), 2),
        "max_in_flight": traffic.max_in_flight,
        "readyz_during": dict(sorted({s: readyz.count(s) for s in readyz}.items())),
        "answering_again_s": _recovered_after(traffic.answers, resumed_at),
        "codes": traffic.codes(),
    }


async def kill_process(stack: ScratchStack, role: str, rate: float, seconds: float) -> dict:
    """kill -9 of the API or the worker under traffic; the supervisor restarts it."""
    workload = await Workload.of(stack)
    traffic, run = workload.flowing(rate, seconds)
    await asyncio.sleep(seconds / 4)
    pids = stack.pids()
    killed_at = time.monotonic()
    _kill(pids.get(role))
    new = await asyncio.to_thread(stack.wait_for_new, role, pids.get(role), 60)
    restarted_s = round(time.monotonic() - killed_at, 2) if new else None
    ready_s = None
    if role == "api" and await asyncio.to_thread(stack.wait_ready, 120):
        ready_s = round(time.monotonic() - killed_at, 2)
    await run
    after = stack.pids()
    acknowledged = traffic.acknowledged()
    return {
        "fault": f"kill -9 {role}",
        "rate": rate,
        "acknowledged": len(acknowledged),
        "lost": await workload.missing(acknowledged),
        "restarted_s": restarted_s,
        **({"api_ready_again_s": ready_s} if role == "api" else {}),
        "others_untouched": all(after.get(r) == pids.get(r) for r in pids if r != role),
        "codes": traffic.codes(),
    }


async def write_latency(stack: ScratchStack, rate: float, seconds: float) -> dict:
    """What a swipe (YES: a meeting request, in a transaction) and an employer's accept (a seat
    booked, in a transaction) cost at ``rate`` per second: p50/p99 and codes."""
    store = Store(stack.db_uri, "jobunivers")
    try:
        citizens = await some_citizen_ids(store.db, 10_000)
        offers = await open_offers(store.db, datetime.now(UTC))
    finally:
        await store.close()
    pairs = itertools.product([o for o in offers if o.get("slots")], citizens)
    tokens = {c: stack.token(c) for c in citizens}
    swipes = Traffic(stack.url)

    def swipe(client: httpx.AsyncClient, i: int):
        offer, citizen = next(pairs)
        return swipes.call(
            client,
            tokens[citizen],
            SWIPE,
            {"offerId": offer["_id"], "decision": "YES"},
            lambda d, o=offer: (o, (d["swipe"]["request"] or {}).get("id")),
        )

    await swipes.run(rate, seconds, swipe)
    requests = [(o, rid) for o, rid in swipes.acknowledged() if rid]
    accepts = Traffic(stack.url)

    def accept(client: httpx.AsyncClient, i: int):
        offer, request_id = requests[i % len(requests)]
        slot = offer["slots"][i % len(offer["slots"])]
        token = stack.token(
            f"bench-employer-{offer['companyCvr']}", Role.EMPLOYER, offer["companyCvr"]
        )
        return accepts.call(
            client, token, ACCEPT, {"id": request_id, "slotId": slot["_id"]}, lambda d: 1
        )

    if requests:
        await accepts.run(rate, min(seconds, len(requests) / rate), accept)

    def figures(t: Traffic) -> dict:
        seconds_ = [a.seconds * 1000 for a in t.answers]
        written = [a.seconds * 1000 for a in t.answers if a.code == "OK"]
        return {
            "n": len(seconds_),
            "p50_ms": round(percentile(seconds_, 50), 1),
            "p99_ms": round(percentile(seconds_, 99), 1),
            # the answers that wrote (a CONFLICT for a full slot writes nothing)
            "ok_p50_ms": round(percentile(written, 50), 1),
            "ok_p99_ms": round(percentile(written, 99), 1),
            "codes": t.codes(),
        }

    return {"rate": rate, "swipe": figures(swipes), "accept": figures(accepts)}


async def run_faults(stack: ScratchStack, faults: list[str], *, rate: float, runs: int,
                     stall_s: float) -> dict:  # fmt: skip
    rows = []
    for fault in faults:
        if fault == "kill-db":
            rows.append(await kill_database(stack, rate, seconds=20))
        elif fault == "kill-after-ack":
            rows.append(await kill_right_after_acknowledged(stack, runs, with_api=False))
        elif fault == "kill-all-after-ack":
            rows.append(await kill_right_after_acknowledged(stack, max(1, runs // 4), True))
        elif fault == "stall-db":
            rows.append(await stall_database(stack, rate, stall_s + 10, stall_s))
        elif fault in ("kill-api", "kill-worker"):
            rows.append(await kill_process(stack, fault.removeprefix("kill-"), rate, 20))
        else:
            raise ValueError(f"unknown fault {fault}")
    return {"faults": rows}


async def disk_full(stack: ScratchStack, rate: float, seconds: float) -> dict:
    """The disk under the database fills up (a ballast file takes every free block of its tmpfs),
    under traffic; then the ballast is deleted. Needs the stack's database on a tmpfs."""
    storage = stack.data_dir / "db"
    workload = await Workload.of(stack)
    traffic, run = workload.flowing(rate, seconds)
    await asyncio.sleep(2)
    database_pid = stack.pids().get("database")
    ballast = storage / "ballast"
    with ballast.open("wb", buffering=0) as f:  # every last block
        for chunk in (1 << 20, 1 << 12):
            with contextlib.suppress(OSError):
                while True:
                    f.write(b"\0" * chunk)
    filled_at = time.monotonic()
    readyz: list[int] = []
    async with httpx.AsyncClient(timeout=10) as client:
        while time.monotonic() - filled_at < seconds / 3:
            with contextlib.suppress(httpx.HTTPError):
                readyz.append((await client.get(f"{stack.url}/readyz")).status_code)
            await asyncio.sleep(1.0)
    full = [a for a in traffic.answers if a.started >= filled_at]
    ballast.unlink()
    freed_at = time.monotonic()
    await run
    ready = await asyncio.to_thread(stack.wait_ready, 120)
    acknowledged = traffic.acknowledged()
    return {
        "fault": "disk full under the database, then freed",
        "rate": rate,
        "acknowledged": len(acknowledged),
        "lost": await workload.missing(acknowledged) if ready else None,
        "codes_while_full": dict(Counter(a.code for a in full)),
        "readyz_while_full": dict(sorted({s: readyz.count(s) for s in readyz}.items())),
        "writes_again_after_freeing_s": _recovered_after(traffic.answers, freed_at),
        "database_restarted": stack.pids().get("database") != database_pid,
        "codes": traffic.codes(),
    }
