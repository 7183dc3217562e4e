"""`jobunivers bench load`: the app's main operations at a fixed arrival rate (open loop: a slow
answer never slows the next arrival) against a started stack, from this process, which is not
the stack's: per operation the offered and achieved rate, p50/p90/p99/max and the errors by code.

Operations, each sent as the phone app sends it (GraphQL over HTTP, one signed-in user per
simulated person, so the per-user rate limits charge each person, not the load generator):

- ``swipe``: a citizen answers a deck card, YES (a meeting request, the day's quota and the
  company's notice, in one transaction) and NO alternately, each for a citizen/offer pair never
  answered before, so no swipe meets an earlier one;
- ``deck``: ``swipeDeck(first: 10)``; ``suggestions``: ``recommendedJobs(first: 20)``;
- ``typeahead``: ``occupations(search:)`` with job titles as a citizen types them;
- ``accept``: an employer accepts a pending meeting request (one each) and books a seat; the
  requests and slots with room for them are made first, unmeasured;
- ``notifications``: the citizen's inbox (``notifications(first: 20)``).

The generator's own delays are reported too (``send_lag_p99_ms``: how late requests left
against their schedule): when the machine is saturated, the offered rate is not what was sent.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import shutil
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from api.auth.actor import Role
from api.citizens import repository as citizens_repository
from api.meetings import repository as meetings_repository
from api.offers import repository as offers_repository
from store.client import Store

from .scratch import ACCEPT, Traffic, percentile

OPERATIONS = ("swipe", "deck", "suggestions", "typeahead", "accept", "notifications")

SWIPE = """mutation Swipe($offerId: ID!, $decision: SwipeDecision!) {
  swipe(offerId: $offerId, decision: $decision) { offerId decision createdAt request { id status } }
}"""
DECK = """query SwipeDeck($first: Int = 10) {
  swipeDeck(first: $first) {
    reason fit distanceKm outsideField
    offer { id title pitch companyName town expiresAt slots { id startsAt free }
            targetOccupations { id label } }
  }
}"""
SUGGESTIONS = """query RecommendedJobs($first: Int = 20) {
  recommendedJobs(first: $first) {
    profiling fittingWithinRadius radiusNotice
    edges { cursor node { score broadened outsideField beyondRadius distanceKm
      posting { id title companyName town hours postedAt deadline }
      explanation { summary reasons matchedCvItems occupationLabel } } }
    pageInfo { hasNextPage endCursor }
  }
}"""
TYPEAHEAD = """query OccupationTypeahead($search: String!, $first: Int = 8) {
  occupations(search: $search, first: $first) { id label iscoCode }
}"""
NOTIFICATIONS = """query Notifications($first: Int = 20) {
  notifications(first: $first) {
    unreadCount
    edges { cursor node { id category title body route createdAt readAt } }
    pageInfo { hasNextPage endCursor }
  }
}"""
ADD_SLOTS = """mutation AddOfferSlots($id: ID!, $slots: [OfferSlotInput!]!) {
  addOfferSlots(id: $id, slots: $slots) { id slots { id capacity booked } }
}"""
# What citizens type into the CV's job-title field (warehouse, transport, clerical work: the
# scratch stack's taxonomy slice), whole and half-typed, with a typo or two.
SEARCHES = ("lager", "lagerarbejder", "truckfører", "chauffør", "buschauf", "pakker",
            "kontorassistent", "sekretær", "bogholder", "lagermedarb", "chaufør", "taxi",
            "warehouse worker", "kontor", "postbud", "flyttemand")  # fmt: skip
SEAT_CAPACITY = 50  # the most one slot may hold (api/offers/service.py)


@dataclass
class Operation:
    """One operation's load: ``rate`` requests per second for ``seconds``."""

    name: str
    rate: float
    seconds: float


def parse_operations(specs: list[str], rate: float, seconds: float) -> list[Operation]:
    """``swipe`` (at ``rate``) or ``swipe=100`` (at 100/s); ``all`` for every operation."""
    out = []
    for spec in specs:
        name, _, own_rate = spec.partition("=")
        names = OPERATIONS if name == "all" else (name,)
        for n in names:
            if n not in OPERATIONS:
                raise ValueError(f"unknown operation {n!r}; one of {', '.join(OPERATIONS)}")
            out.append(Operation(n, float(own_rate) if own_rate else rate, seconds))
    return out


@dataclass
class LoadTarget:
    """A started stack: where its API answers, its database, and how to sign people in."""

    url: str
    db_uri: str
    token: Callable[..., str]  # (subject, role=Role.CITIZEN, cvr=None) -> bearer token
    db_name: str = "jobunivers"


@dataclass
class Load:
    target: LoadTarget
    citizens: list[str]
    offers: list[dict]  # open, with their companyCvr
    pairs: list[tuple[str, str]]  # (offer id, citizen id) never answered, to be swiped
    tokens: dict[str, str] = field(default_factory=dict)
    requests: list[tuple[str, str, str]] = field(default_factory=list)  # (request, cvr, slot)

    @classmethod
    async def of(cls, target: LoadTarget) -> Load:
        store = Store(target.db_uri, target.db_name)
        db = store.db
        try:
            now = datetime.now(UTC)
            citizens = await citizens_repository.blocked_companies_by_citizen(db)
            offers = await offers_repository.open_offer_companies(db, now + timedelta(hours=1))
            answered = await meetings_repository.answered_pairs(db)
        finally:
            await store.close()
        # Diagonal: request i and i + 1 are from other citizens for other offers (as from a
        # crowd, not one citizen swiping fast); the accept set-up takes pairs from the end,
        # which are spread over every offer.
        pairs = [
            (o["_id"], cid)
            for shift in range(len(offers))
            for i, (cid, blocked) in enumerate(citizens.items())
            if ((o := offers[(i + shift) % len(offers)])["_id"], cid) not in answered
            and o["companyCvr"] not in blocked
        ]
        load = cls(target, list(citizens), offers, pairs)
        load.tokens = {cid: target.token(cid) for cid in citizens}
        return load

    def employer_token(self, cvr: str) -> str:
        key = f"employer:{cvr}"
        if key not in self.tokens:
            self.tokens[key] = self.target.token(f"load-employer-{cvr}", Role.EMPLOYER, cvr)
        return self.tokens[key]

    def take_pairs(self, n: int, from_end: bool = False) -> list[tuple[str, str]]:
        if n > len(self.pairs):
            raise RuntimeError(
                f"{n} fresh citizen/offer pairs wanted, {len(self.pairs)} left: "
                "seed more citizens or offers, or lower the rate or duration"
            )
        if from_end:
            taken, self.pairs = self.pairs[len(self.pairs) - n :], self.pairs[: len(self.pairs) - n]
        else:
            taken, self.pairs = self.pairs[:n], self.pairs[n:]
        return taken

    # --- set-up (not measured) ---------------------------------------------------------------
    async def prepare_accepts(self, n: int) -> None:
        """``n`` pending meeting requests (YES swipes) and slots with a seat for each."""
        pairs = self.take_pairs(n, from_end=True)
        cvr_of = {o["_id"]: o["companyCvr"] for o in self.offers}
        per_offer = Counter(offer for offer, _ in pairs)
        slots: dict[str, list[str]] = {}
        setup = Traffic(self.target.url)
        starts = (datetime.now(UTC) + timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
        async with httpx.AsyncClient(timeout=60) as client:

            async def add_slots(offer: str, wanted: int) -> None:
                count = math.ceil(wanted / SEAT_CAPACITY)
                new = [{"startsAt": (starts + timedelta(hours=i)).isoformat(),
                        "capacity": SEAT_CAPACITY} for i in range(count)]  # fmt: skip
                answer = await setup.call(
                    client, self.employer_token(cvr_of[offer]), ADD_SLOTS,
                    {"id": offer, "slots": new}, lambda d: d["addOfferSlots"]["slots"],
                )  # fmt: skip
                if answer.code != "OK":
                    raise RuntimeError(f"adding slots to {offer} failed: {answer.code}")
                roomy = [
                    s for s in answer.value if s["capacity"] == SEAT_CAPACITY and not s["booked"]
                ]
                slots[offer] = [s["id"] for s in roomy][-count:]

            await _bounded(8, [add_slots(o, k) for o, k in per_offer.items()])
            # each new slot holds SEAT_CAPACITY: the offer's requests take them in turn
            seats = {offer: itertools.cycle(ids) for offer, ids in slots.items()}

            async def request(offer: str, citizen: str) -> None:
                answer = await setup.call(
                    client, self.tokens[citizen], SWIPE, {"offerId": offer, "decision": "YES"},
                    lambda d: (d["swipe"]["request"] or {}).get("id"),
                )  # fmt: skip
                if answer.code == "OK" and answer.value:
                    self.requests.append((answer.value, cvr_of[offer], next(seats[offer])))

            await _bounded(8, [request(o, cid) for o, cid in pairs])
        if len(self.requests) < n:
            raise RuntimeError(f"only {len(self.requests)} of {n} meeting requests were made: "
                               f"{setup.codes()}")  # fmt: skip

    # --- the operations -----------------------------------------------------------------------
    def caller(self, op: Operation, traffic: Traffic) -> Callable:
        citizens = self.citizens
        if op.name == "swipe":
            pairs = self.take_pairs(math.ceil(op.rate * op.seconds))

            def swipe(client: httpx.AsyncClient, i: int):
                offer, citizen = pairs[i]
                decision = "YES" if i % 2 == 0 else "NO"
                return traffic.call(client, self.tokens[citizen], SWIPE,
                                    {"offerId": offer, "decision": decision}, _ok)  # fmt: skip

            return swipe
        if op.name == "accept":  # each prepared request is accepted once
            n = math.ceil(op.rate * op.seconds)
            requests, self.requests = self.requests[:n], self.requests[n:]

            def accept(client: httpx.AsyncClient, i: int):
                request, cvr, slot = requests[i]
                return traffic.call(client, self.employer_token(cvr), ACCEPT,
                                    {"id": request, "slotId": slot}, _ok)  # fmt: skip

            return accept
        query, variables = {
            "deck": (DECK, lambda i: {"first": 10}),
            "suggestions": (SUGGESTIONS, lambda i: {"first": 20}),
            "typeahead": (TYPEAHEAD, lambda i: {"search": SEARCHES[i % len(SEARCHES)]}),
            "notifications": (NOTIFICATIONS, lambda i: {"first": 20}),
        }[op.name]

        def read(client: httpx.AsyncClient, i: int):
            citizen = citizens[i % len(citizens)]
            return traffic.call(client, self.tokens[citizen], query, variables(i), _ok)

        return read

    async def measure(self, op: Operation) -> Traffic:
        traffic = Traffic(self.target.url)
        await traffic.run(op.rate, op.seconds, self.caller(op, traffic))
        return traffic


def _ok(data: dict) -> int:
    return 1


async def _bounded(limit: int, coroutines: list) -> None:
    gate = asyncio.Semaphore(limit)

    async def one(coro) -> None:
        async with gate:
            await coro

    await asyncio.gather(*(one(co) for co in coroutines))


def figures(op: Operation, traffic: Traffic) -> dict:
    answers = traffic.answers
    ms = [a.seconds * 1000 for a in answers]
    ok = [a for a in answers if a.code == "OK"]
    if answers:
        first = min(a.started for a in answers)
        last = max(a.started + a.seconds for a in answers)
        wall = max(last - first, 1e-9)
    else:
        wall = op.seconds
    errors = Counter(a.code for a in answers if a.code != "OK")
    return {
        "operation": op.name,
        "offered_per_s": round(op.rate, 1),
        "seconds": op.seconds,
        "sent": len(answers),
        "ok": len(ok),
        "achieved_per_s": round(len(ok) / wall, 1),
        "p50_ms": round(percentile(ms, 50), 1),
        "p90_ms": round(percentile(ms, 90), 1),
        "p99_ms": round(percentile(ms, 99), 1),
        "max_ms": round(max(ms, default=0.0), 1),
        "errors": dict(sorted(errors.items())),
        "max_in_flight": traffic.max_in_flight,
        "send_lag_p99_ms": round(percentile([lag * 1000 for lag in traffic.send_lags], 99), 1),
    }


async def run_load(target: LoadTarget, operations: list[Operation], together: bool = False,
                   settle_s: float = 2.0) -> dict:  # fmt: skip
    """Each operation at its rate, one after another (or all at once with ``together``)."""
    load = await Load.of(target)
    accepts = [op for op in operations if op.name == "accept"]
    if accepts:
        await load.prepare_accepts(sum(math.ceil(op.rate * op.seconds) for op in accepts))
    started = time.monotonic()
    rows = []
    if together:
        traffics = await asyncio.gather(*(load.measure(op) for op in operations))
        rows = [figures(op, t) for op, t in zip(operations, traffics, strict=True)]
    else:
        for op in operations:
            await asyncio.sleep(settle_s)  # the previous operation's after-effects settle
            rows.append(figures(op, await load.measure(op)))
    return {
        "load": rows,
        "mode": "together" if together else "one after another",
        "citizens": len(load.citizens),
        "offers": len(load.offers),
        "wall_s": round(time.monotonic() - started, 1),
    }


def run_on_scratch_stack(operations: list[Operation], *, together: bool = False,
                         citizens: int = 300, offers: int = 60, postings: int = 200,
                         companies: int = 20, api_workers: int | None = None,
                         env: dict[str, str] | None = None, warm_up_s: float = 5.0,
                         log: Callable[[str], None] = print,
                         keep_log: Path | None = None) -> dict:  # fmt: skip
    """`jobunivers run` (database, demo data, API, worker, housekeeping, job agent) on a
    temporary directory, then the load from this process. ``keep_log``: where to copy the
    stack's log (the API's, the worker's, the database's) before the directory goes."""
    import tempfile

    from core.settings import Settings

    from .scratch import ScratchStack

    extra = dict(env or {})
    if api_workers is not None:
        if "api_workers" in Settings.model_fields:
            extra["JOBUNIVERS_API_WORKERS"] = str(api_workers)
        else:
            log("--api-workers ignored: this version serves one API process")
            api_workers = None
    with tempfile.TemporaryDirectory(prefix="jobunivers-load-") as root:
        stack = ScratchStack(Path(root), citizens=citizens, companies=companies,
                             postings=postings, offers=offers, extra_env=extra)  # fmt: skip
        log("Starting a scratch stack (jobunivers run) ...")
        stack.start()
        try:
            # The first job-agent run and the offer filler run right after start-up.
            time.sleep(warm_up_s)
            target = LoadTarget(stack.url, stack.db_uri, stack.token)
            result = asyncio.run(run_load(target, operations, together=together))
        finally:
            stack.stop()
            if keep_log is not None and stack.log.exists():
                shutil.copyfile(stack.log, keep_log)
    result["api_workers"] = api_workers if api_workers is not None else "default"
    if extra:
        result["env"] = extra
    return result
