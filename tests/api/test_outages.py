"""Outages answered as outages, on a real socket against a real embedded server that is killed,
restarted, paused (SIGSTOP) or made to fail (failpoints): every GraphQL answer is UNAVAILABLE
within the bound, with a reason, retryAfter and a Retry-After header, never
INTERNAL_SERVER_ERROR and never a hang; the same API answers normally once the database is
back. Also the request deadline and load shedding.

Answer times are printed (``pytest -s``) so a run reports what it measured."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import strawberry
from fastapi import FastAPI
from pymongo import MongoClient

from api.app import RequestGuard, create_app
from api.auth.actor import Role
from api.errors import PresentingSchema
from api.persisted import PersistedQueries
from api.router import JobuniversGraphQLRouter
from core.settings import Settings
from store.embedded import EmbeddedDatabase, free_port
from tests.conftest import TEST_SECRET, serve_in_thread, token_for

CITIZEN = token_for("outage-citizen")
EMPLOYER = token_for("outage-employer", Role.EMPLOYER, cvr="10000009")
PROFILE = "{ myProfile { id } }"
NOTIFICATIONS = "{ notifications(first: 5) { unreadCount } }"
SET_DAILY_CAP = """mutation($cap: Int!) {
  updateNotificationPreferences(input: {dailyCap: $cap}) { dailyCap }
}"""
EMPLOYER_QUERY = "{ myOffers { id } }"
OUTAGE_BOUND_S = 2.0  # issue 15: an outage answers within 2 s
STALL_BOUND_S = 2.5  # a stalled call ends by timeoutMS (1.4 s), plus the answer itself


@dataclass
class Answer:
    status: int
    headers: httpx.Headers
    body: dict
    seconds: float

    @property
    def codes(self) -> list[str]:
        return [(e.get("extensions") or {}).get("code") for e in self.body.get("errors") or []]

    @property
    def first_error(self) -> dict:
        return self.body["errors"][0]


class Stack:
    """One embedded server (its own port and storage) and the API served on a real socket."""

    def __init__(self, db: EmbeddedDatabase, port: int) -> None:
        self.db = db
        self.url = f"http://127.0.0.1:{port}"

    def post(
        self,
        query: str,
        *,
        token: str | None = CITIZEN,
        variables: dict | None = None,
        locale: str | None = None,
    ) -> Answer:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        if locale:
            headers["Accept-Language"] = locale
        started = time.perf_counter()
        # The client waits far longer than any bound: a hang shows up as a failed bound.
        response = httpx.post(f"{self.url}/graphql", json={"query": query,
                              "variables": variables or {}}, headers=headers, timeout=20)  # fmt: skip
        return Answer(response.status_code, response.headers, response.json(),
                      time.perf_counter() - started)  # fmt: skip

    def get(self, path: str) -> Answer:
        started = time.perf_counter()
        response = httpx.get(f"{self.url}{path}", timeout=20)
        return Answer(response.status_code, response.headers, response.json(),
                      time.perf_counter() - started)  # fmt: skip

    def wait_until(self, predicate, seconds: float, what: str) -> float:
        started = time.monotonic()
        while not predicate():
            assert time.monotonic() - started < seconds, f"{what} within {seconds} s"
            time.sleep(0.2)
        return time.monotonic() - started

    def ready(self) -> bool:
        return self.get("/readyz").status == 200

    def answers_normally(self) -> bool:
        answer = self.post(PROFILE)
        return answer.status == 200 and not answer.body.get("errors")


def make_settings(db: EmbeddedDatabase, tmp_path: Path, **overrides) -> Settings:
    # The shipped timeouts (timeoutMS 1.4 s, deadline 5 s), not the
    # suite's longer ones: these bounds are what is under test.
    return Settings(
        mode="local",
        mongodb_uri=db.uri,
        database_name="outages",
        data_dir=tmp_path,
        local_token_secret=TEST_SECRET,
        log_json=True,
        housekeeping_interval_s=0,
        job_agent_interval_s=0,
        **overrides,
    )


@contextlib.contextmanager
def running_stack(tmp_path: Path, shared_engine, *, test_commands: bool = False,
                  **overrides) -> Iterator[Stack]:  # fmt: skip
    db = EmbeddedDatabase(tmp_path / "db", port=free_port(), cache_size="128M",
                          test_commands=test_commands)  # fmt: skip
    db.start()
    try:
        shared_engine.ready = False  # loaded again against this database
        app = create_app(make_settings(db, tmp_path, **overrides), engine=shared_engine)
        with serve_in_thread(app) as port:
            stack = Stack(db, port)
            stack.wait_until(stack.ready, 60, "ready at start")
            yield stack
    finally:
        with contextlib.suppress(ProcessLookupError, AttributeError):
            os.kill(db.process.pid, signal.SIGCONT)  # never leave a stopped process behind
        db.stop(timeout_s=10)


def assert_outage(answer: Answer, reason: str | tuple[str, ...], bound_s: float) -> None:
    reasons = (reason,) if isinstance(reason, str) else reason
    assert answer.seconds < bound_s, (answer.seconds, answer.body)
    assert answer.codes and set(answer.codes) == {"UNAVAILABLE"}, answer.body
    extensions = answer.first_error["extensions"]
    assert extensions["reason"] in reasons, extensions
    assert extensions["retryAfter"] == 2
    assert answer.headers.get("retry-after") == "2"


def test_database_killed_answers_unavailable_and_recovers(tmp_path, shared_engine):
    # With timeoutMS set, PyMongo waits for an unreachable server for the whole timeoutMS (not
    # serverSelectionTimeoutMS) and overshoots by up to its 0.5 s polling step: an answer takes
    # timeoutMS to timeoutMS + 0.5 s. Within 2 s therefore needs timeoutMS of about 1.4 s,
    # which is what ships.
    with running_stack(tmp_path, shared_engine) as stack:
        saved = stack.post(SET_DAILY_CAP, variables={"cap": 5})
        assert saved.body == {"data": {"updateNotificationPreferences": {"dailyCap": 5}}}
        assert stack.answers_normally()

        stack.db.process.kill()  # kill -9
        stack.db.process.wait()
        answers = {
            "query": stack.post(PROFILE),
            "mutation": stack.post(SET_DAILY_CAP, variables={"cap": 7}),
            "list": stack.post(NOTIFICATIONS),
            "english": stack.post(PROFILE, locale="en"),
            "employer": stack.post(EMPLOYER_QUERY, token=EMPLOYER),
        }
        # An employer's request notes the employer while signing in (api/companies/service.py):
        # the outage answers there, as HTTP 503, within the same bound.
        employer = answers.pop("employer")
        assert_outage(employer, "DATABASE_UNAVAILABLE", OUTAGE_BOUND_S)
        assert employer.status == 503
        for name, answer in answers.items():
            assert_outage(answer, "DATABASE_UNAVAILABLE", OUTAGE_BOUND_S)
            assert answer.status == 200, name  # the request ran; its database did not answer
        assert answers["query"].first_error["message"].startswith("Tjenesten er midlertidigt")
        assert answers["english"].first_error["message"].startswith("The service is temporarily")
        readyz = stack.get("/readyz")
        assert readyz.status == 503 and readyz.seconds < OUTAGE_BOUND_S, readyz
        assert readyz.body["checks"]["database"] is False and readyz.body["reasons"]["database"]
        assert stack.get("/healthz").status == 200  # alive, not ready: not to be restarted
        print(f"\nkilled database: max answer {max(a.seconds for a in answers.values()):.2f} s "
              f"({', '.join(f'{k} {a.seconds:.2f}' for k, a in answers.items())}), "
              f"employer {employer.seconds:.2f} s, readyz {readyz.seconds:.2f} s")  # fmt: skip

        # The same database back on the same port and storage: the API reconnects by itself.
        stack.db.process = None
        stack.db.start()
        recovered = stack.wait_until(stack.answers_normally, 20, "answering again")
        stack.wait_until(stack.ready, 10, "ready again")
        print(f"answering normally {recovered:.1f} s after the database was back")
        # The write acknowledged before the kill -9 is there; the one answered UNAVAILABLE not.
        kept = stack.post("{ notificationPreferences { dailyCap } }")
        assert kept.body == {"data": {"notificationPreferences": {"dailyCap": 5}}}
        again = stack.post(SET_DAILY_CAP, variables={"cap": 6})
        assert again.body == {"data": {"updateNotificationPreferences": {"dailyCap": 6}}}


def test_stalled_database_answers_by_the_deadline_and_recovers(tmp_path, shared_engine):
    with running_stack(tmp_path, shared_engine) as stack:
        assert stack.answers_normally()
        pid = stack.db.process.pid
        os.kill(pid, signal.SIGSTOP)
        try:
            # Concurrent requests, none may hang: each database call ends by timeoutMS.
            calls = [(PROFILE, None), (SET_DAILY_CAP, {"cap": 3}), (NOTIFICATIONS, None)] * 2
            with ThreadPoolExecutor(len(calls) + 1) as pool:
                futures = [pool.submit(stack.post, q, variables=v) for q, v in calls]
                readyz_future = pool.submit(stack.get, "/readyz")
                answers = [f.result(timeout=30) for f in futures]
                readyz = readyz_future.result(timeout=30)
            for answer in answers:
                assert_outage(answer, "TIMEOUT", STALL_BOUND_S)
            assert readyz.status == 503 and readyz.seconds < STALL_BOUND_S, readyz
            healthz = stack.get("/healthz")
            assert healthz.status == 200 and healthz.seconds < 0.5
            print(f"\nstalled database: max answer {max(a.seconds for a in answers):.2f} s, "
                  f"readyz {readyz.seconds:.2f} s")  # fmt: skip
        finally:
            os.kill(pid, signal.SIGCONT)
        recovered = stack.wait_until(stack.answers_normally, 20, "answering again")
        stack.wait_until(stack.ready, 10, "ready again")
        print(f"answering normally {recovered:.1f} s after SIGCONT")


def _fail(client: MongoClient, data: dict | None) -> None:
    mode = "off" if data is None else "alwaysOn"
    client.admin.command("configureFailPoint", "failCommand", mode=mode,
                         data={"appName": "jobunivers", **(data or {})})  # fmt: skip


def test_server_errors_that_mean_the_database_cannot_work(tmp_path, shared_engine):
    """Decided by code: 1 (what SecantusDB answers to everything once WiredTiger panicked) and
    14031 (out of disk space) are outages; any other server error stays a masked internal
    error, a bug to find rather than a reason to retry."""
    with running_stack(tmp_path, shared_engine, test_commands=True) as stack:
        admin: MongoClient = MongoClient(stack.db.uri)
        try:
            for code in (1, 14031):
                _fail(admin, {"failCommands": ["find"], "errorCode": code})
                assert_outage(stack.post(PROFILE), "DATABASE_UNAVAILABLE", OUTAGE_BOUND_S)
            _fail(admin, {"failCommands": ["update"], "errorCode": 1})
            assert_outage(stack.post(SET_DAILY_CAP, variables={"cap": 4}),
                          "DATABASE_UNAVAILABLE", OUTAGE_BOUND_S)  # fmt: skip
            _fail(admin, {"failCommands": ["update"], "errorCode": 64})  # write concern timed out
            assert_outage(stack.post(SET_DAILY_CAP, variables={"cap": 4}), "TIMEOUT",
                          OUTAGE_BOUND_S)  # fmt: skip
            _fail(admin, {"failCommands": ["find"], "errorCode": 2})  # BadValue: not an outage
            masked = stack.post(PROFILE)
            assert masked.codes == ["INTERNAL_SERVER_ERROR"] and "retry-after" not in masked.headers
            _fail(admin, None)
            assert stack.answers_normally()
        finally:
            admin.close()


def test_the_request_deadline_ends_database_calls(tmp_path, shared_engine):
    """A database call slower than what is left of the request's deadline ends at the
    deadline (1 s here), before the call's own timeoutMS (1.4 s)."""
    with running_stack(tmp_path, shared_engine, test_commands=True,
                       request_timeout_s=1.0) as stack:  # fmt: skip
        admin: MongoClient = MongoClient(stack.db.uri)
        try:
            admin.admin.command("configureFailPoint", "failCommand", mode="alwaysOn", data={
                "appName": "jobunivers", "failCommands": ["find"], "blockConnection": True,
                "blockTimeMS": 3000})  # fmt: skip
            answer = stack.post(PROFILE)
            assert_outage(answer, "TIMEOUT", 1.6)
            assert answer.seconds >= 0.9, answer.seconds  # the deadline, not something sooner
            _fail(admin, None)
        finally:
            admin.close()


def test_beyond_the_cap_requests_are_refused_at_once(tmp_path, shared_engine):
    """max_requests_in_flight=2: while two requests wait on a slow database, a third is refused
    at once with 503 OVERLOADED; /healthz and /readyz still answer."""
    with running_stack(tmp_path, shared_engine, test_commands=True,
                       max_requests_in_flight=2) as stack:  # fmt: skip
        admin: MongoClient = MongoClient(stack.db.uri)
        try:
            admin.admin.command("configureFailPoint", "failCommand", mode="alwaysOn", data={
                "appName": "jobunivers", "failCommands": ["find"], "blockConnection": True,
                "blockTimeMS": 1000})  # fmt: skip
            with ThreadPoolExecutor(2) as pool:
                slow = [pool.submit(stack.post, PROFILE) for _ in range(2)]
                time.sleep(0.5)  # both are in flight, waiting on the database
                refused = stack.post(PROFILE, locale="en")
                refused_da = stack.post(PROFILE)
                healthz = stack.get("/healthz")
                readyz = stack.get("/readyz")
                slow_answers = [f.result(timeout=30) for f in slow]
            assert refused.status == 503 and refused.seconds < 0.3, refused
            assert refused.body == {"errors": [{
                "message": "The service is busy right now. Please try again shortly.",
                "extensions": {"code": "UNAVAILABLE", "reason": "OVERLOADED", "retryAfter": 2,
                               "requestId": refused.headers["x-request-id"]},
            }]}  # fmt: skip
            assert refused.headers["retry-after"] == "2"
            assert refused_da.status == 503
            assert refused_da.first_error["message"] == "Der er travlt lige nu. Prøv igen om lidt."
            assert healthz.status == 200 and readyz.status == 200, readyz.body  # never shed
            # The two in flight were slow, not refused: they answer normally.
            assert all(a.status == 200 and not a.body.get("errors") for a in slow_answers)
            _fail(admin, None)
            assert stack.answers_normally()  # the count went back down
            print(f"\nrefused the third request in {refused.seconds * 1000:.0f} ms")
        finally:
            admin.close()


# --- the deadline and the cap on a slow resolver (no database involved) -------------------------
@strawberry.type
class SlowQuery:
    @strawberry.field
    async def slow(self, seconds: float) -> str:
        await asyncio.sleep(seconds)  # waits on something that is not the database
        return "done"


def slow_app(**overrides) -> FastAPI:
    """The real router and guard around a one-field schema whose resolver takes its time."""
    settings = Settings(local_token_secret=TEST_SECRET, **overrides)
    app = FastAPI()
    app.include_router(JobuniversGraphQLRouter(PresentingSchema(query=SlowQuery),
                       settings=settings, persisted=PersistedQueries.load(), path="/graphql"))  # fmt: skip
    app.add_middleware(RequestGuard, settings=settings, path="/graphql")
    return app


async def _slow(client: httpx.AsyncClient, seconds: float) -> Answer:
    started = time.perf_counter()
    response = await client.post("/graphql", json={"query": f"{{ slow(seconds: {seconds}) }}"})
    return Answer(response.status_code, response.headers, response.json(),
                  time.perf_counter() - started)  # fmt: skip


async def test_a_resolver_past_the_deadline_answers_timeout():
    transport = httpx.ASGITransport(app=slow_app(request_timeout_s=0.5))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        answer = await _slow(client, 5)
        assert_outage(answer, "TIMEOUT", 1.0)
        assert answer.seconds >= 0.45 and answer.status == 200
        assert answer.body["data"] is None
        assert (await _slow(client, 0.05)).body == {"data": {"slow": "done"}}


async def test_the_cap_counts_requests_held_by_a_slow_resolver():
    transport = httpx.ASGITransport(app=slow_app(max_requests_in_flight=2))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        slow = [asyncio.create_task(_slow(client, 1.0)) for _ in range(2)]
        await asyncio.sleep(0.2)
        refused = await _slow(client, 0)
        assert refused.status == 503 and refused.seconds < 0.2, refused
        assert refused.first_error["extensions"]["reason"] == "OVERLOADED"
        assert refused.headers["retry-after"] == "2"
        assert [a.body for a in await asyncio.gather(*slow)] == [{"data": {"slow": "done"}}] * 2
        assert (await _slow(client, 0)).status == 200  # the count went back down
