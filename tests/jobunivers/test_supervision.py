"""Supervision (issue 15): `jobunivers run` restarts whatever dies, and the database is also
restarted when it runs but no longer takes writes.

The first test drives the real `jobunivers run` (kill -9 of the API, the worker and the
database, then Ctrl-C); the others run the supervisor's database loop in a thread against a
real embedded server with test commands on, so a panicked database can be simulated with a
failpoint (SecantusDB's failCommand fails every matching write, whatever its namespace, which
is what a panicked WiredTiger does too). Process ids come from the supervisor's pid file.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from pymongo import MongoClient
from rich.console import Console

from jobunivers.supervisor import (
    PID_FILE_NAME,
    SupervisedDatabase,
    Supervisor,
    process_state,
)
from store.embedded import EmbeddedDatabase, answers_ping, free_port
from tests.e2e.server import taxonomy_slice

EMPLOYER_QUERY = "{ viewer { role company { name } } }"


def _wait_for(predicate: Callable[[], object], timeout_s: float, what: str, step_s=0.1):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(step_s)
    raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}")


def _ok(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def _company_name(api: str, token: str) -> str | None:
    """The employer's company name: an answer only a working database gives."""
    try:
        response = httpx.post(
            f"{api}/graphql",
            json={"query": EMPLOYER_QUERY},
            headers={"Authorization": f"Bearer {token}"},
            timeout=3,
        )
        data = response.json().get("data") or {}
    except (httpx.HTTPError, ValueError):
        return None
    return ((data.get("viewer") or {}).get("company") or {}).get("name")


def _gone(pid: int) -> bool:
    """Exited and reaped: a zombie (Z) still has a /proc entry."""
    return process_state(pid) is None


def test_run_restarts_whatever_is_killed(tmp_path: Path):
    api_port, db_port = free_port(), free_port()
    data_dir = tmp_path / "var"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("JOBUNIVERS_")},
        "JOBUNIVERS_PORT": str(api_port),
        "JOBUNIVERS_EMBEDDED_DB_PORT": str(db_port),
        "JOBUNIVERS_DATA_DIR": str(data_dir),
        "JOBUNIVERS_EMBEDDED_DB_CACHE_SIZE": "128M",
        "JOBUNIVERS_LOG_JSON": "false",
        "JOBUNIVERS_DEMO_COMPANIES": "8",
        "JOBUNIVERS_DEMO_POSTINGS": "30",
        "JOBUNIVERS_DEMO_OFFERS": "2",
        "JOBUNIVERS_DEMO_CITIZENS": "8",
        "JOBUNIVERS_TAXONOMY_DIR": str(taxonomy_slice(tmp_path / "taxonomy")),
    }
    env.pop("MONGODB_URI", None)
    api = f"http://127.0.0.1:{api_port}"
    out = tmp_path / "run.out"
    seen: set[int] = set()  # every pid ever listed, to clean up whatever a failure leaves

    def pids() -> dict[str, int | None]:
        try:
            found = json.loads((data_dir / PID_FILE_NAME).read_text())
        except (OSError, ValueError):
            return {}
        seen.update(p for p in found.values() if p)
        return found

    def new_pid(name: str, old: int) -> int | None:
        pid = pids().get(name)
        return pid if pid and pid != old else None

    timings: dict[str, float] = {}
    with open(out, "wb") as sink:
        run = subprocess.Popen(
            [sys.executable, "-m", "jobunivers.cli", "run"],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            _wait_for(lambda: _ok(f"{api}/readyz"), 180, "readyz", step_s=0.3)
            employer = re.findall(r'"Authorization": "Bearer ([^"]+)"', out.read_text())[1]
            company = _company_name(api, employer)
            assert company
            first = _wait_for(lambda: pids() if all(pids().values()) else None, 5, "pids")
            assert first["supervisor"] == run.pid

            # The API killed: a new one answers /healthz, the dead one is reaped.
            os.kill(first["api"], signal.SIGKILL)
            t0 = time.monotonic()
            _wait_for(lambda: not _ok(f"{api}/healthz"), 3, "the API to go down", step_s=0.02)
            api_pid = _wait_for(lambda: new_pid("api", first["api"]), 5, "a new API")
            # Generous: the API's own start (imports, the model) takes 5-10 s on two busy
            # cores. The 10 s target is the fault benchmark's; here the time is printed.
            _wait_for(lambda: _ok(f"{api}/healthz"), 30, "/healthz from the new API")
            timings["api"] = time.monotonic() - t0
            _wait_for(lambda: _gone(first["api"]), 2, "the killed API to be reaped")

            # The worker killed: restarted, and the API answers throughout.
            os.kill(first["worker"], signal.SIGKILL)
            t0 = time.monotonic()
            answers = 0
            while not new_pid("worker", first["worker"]):
                assert _company_name(api, employer) == company, "the API must keep answering"
                answers += 1
                assert time.monotonic() - t0 < 10, "the worker was not restarted"
            timings["worker"] = time.monotonic() - t0
            worker_pid = pids()["worker"]
            for _ in range(5):  # a little longer: the new worker's start must not disturb it
                assert _company_name(api, employer) == company
            assert answers >= 1
            _wait_for(lambda: _gone(first["worker"]), 2, "the killed worker to be reaped")
            assert pids()["api"] == api_pid, "a worker crash must not restart the API"
            assert pids()["database"] == first["database"], "nor the database"

            # The database killed: restarted, and the API answers GraphQL again.
            os.kill(first["database"], signal.SIGKILL)
            t0 = time.monotonic()
            _wait_for(lambda: new_pid("database", first["database"]), 5, "a new database")
            _wait_for(lambda: _company_name(api, employer) == company, 15, "GraphQL again")
            timings["database"] = time.monotonic() - t0
            _wait_for(lambda: _gone(first["database"]), 2, "the killed database to be reaped")
            assert pids()["api"] == api_pid, "the API reconnects; it is not restarted"
            assert pids()["worker"] == worker_pid, "so does the worker"
            assert process_state(worker_pid) not in (None, "Z")

            text = out.read_text()
            assert "api stopped (killed by SIGKILL)" in text
            assert "worker stopped (killed by SIGKILL)" in text
            assert "database exited (killed by SIGKILL)" in text
            print(f"recovery after kill -9 (s): {timings}")
        finally:
            run.send_signal(signal.SIGINT)
            try:
                code = run.wait(timeout=60)
            finally:
                for pid in seen - {run.pid}:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
    assert code == 0
    for pid in seen - {run.pid}:
        assert _gone(pid), f"pid {pid} outlived the supervisor"
    assert not answers_ping(f"mongodb://127.0.0.1:{db_port}/"), "Ctrl-C stops the database"
    assert not (data_dir / PID_FILE_NAME).exists()
    assert "Stopped." in out.read_text()


# --- the database loop alone -------------------------------------------------------------------


@contextlib.contextmanager
def _supervised_database(
    tmp_path: Path, **limits: float
) -> Iterator[tuple[SupervisedDatabase, io.StringIO]]:
    """A real embedded server (test commands on) under the supervisor's database loop, with
    a fast probe, in a thread; yields the loop and what it printed."""
    embedded = EmbeddedDatabase(
        tmp_path / "db", port=free_port(), cache_size="64M", test_commands=True
    )
    embedded.start()
    printed = io.StringIO()
    database = SupervisedDatabase(
        embedded,
        Console(file=printed, width=200, color_system=None),
        probe_interval_s=0.3,
        backoff_max_s=4.0,
        **limits,
    )
    supervisor = Supervisor([], database)
    stop = threading.Event()
    loop = threading.Thread(target=supervisor.run, args=(stop.is_set, 0.05), daemon=True)
    loop.start()
    try:
        _wait_for(lambda: database.healthy_since is not None, 5, "a first successful probe")
        yield database, printed
    finally:
        stop.set()
        loop.join(timeout=10)
        supervisor.stop()


def _write(uri: str) -> bool:
    with MongoClient(uri, directConnection=True, timeoutMS=1500) as client:
        try:
            client.jobunivers.checks.insert_one({"at": time.time()})
            return True
        except Exception:
            return False


def test_a_database_that_refuses_writes_is_killed_and_restarted(tmp_path: Path):
    with _supervised_database(tmp_path) as (database, printed):
        panicked = database.embedded.pid
        with MongoClient(database.embedded.uri, directConnection=True) as client:
            client.admin.command(
                {
                    "configureFailPoint": "failCommand",
                    "mode": "alwaysOn",
                    "data": {"failCommands": ["insert", "update"], "errorCode": 8},
                }
            )
        assert not _write(database.embedded.uri), "the failpoint must make writes fail"
        assert process_state(panicked) not in (None, "Z"), "it still runs, as a panicked one does"
        t0 = time.monotonic()
        _wait_for(lambda: database.embedded.pid not in (None, panicked), 10, "a restart")
        _wait_for(lambda: database.state == "running" and database.healthy_since, 10, "a probe")
        recovered_s = time.monotonic() - t0
        assert _write(database.embedded.uri), "a restart clears the failpoint"
        assert process_state(panicked) is None, "the panicked process is gone and reaped"
        text = printed.getvalue()
        assert "refused 3 write probes in a row (code 8)" in text
        assert "database back" in text
        print(f"panicked database: restarted and taking writes {recovered_s:.1f} s after")


def test_a_paused_database_is_left_alone_and_a_hung_one_is_restarted(tmp_path: Path):
    # With these limits an unanswered probe for 1.5 s means a restart: the pause lasts longer.
    with _supervised_database(tmp_path, silent_restart_after_s=1.5, probe_timeout_s=0.5) as (
        database,
        printed,
    ):
        pid = database.embedded.pid
        os.kill(pid, signal.SIGSTOP)
        try:
            _wait_for(lambda: "database paused" in printed.getvalue(), 3, "the pause noticed")
            time.sleep(3.5)
            assert database.embedded.pid == pid and database.state == "running"
        finally:
            os.kill(pid, signal.SIGCONT)
        _wait_for(lambda: "database continues" in printed.getvalue(), 3, "the resume noticed")
        _wait_for(lambda: database.healthy_since, 3, "a successful probe after SIGCONT")
        assert database.embedded.pid == pid

        # Hung while running (every write blocks): restarted after silent_restart_after_s.
        with MongoClient(database.embedded.uri, directConnection=True) as client:
            client.admin.command(
                {
                    "configureFailPoint": "failCommand",
                    "mode": "alwaysOn",
                    "data": {"failCommands": ["update"], "blockConnection": True,
                             "blockTimeMS": 60_000},
                }
            )  # fmt: skip
        _wait_for(lambda: database.embedded.pid not in (None, pid), 8, "a restart of the hung")
        _wait_for(lambda: database.healthy_since, 10, "writes after the restart")
        assert "answered no write probe for" in printed.getvalue()


def test_a_restart_that_fails_is_retried_with_back_off(tmp_path: Path):
    with _supervised_database(tmp_path) as (database, printed):
        port = database.embedded.port
        blocker = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        # Past the dead server's TIME_WAIT connections; a second listener is still refused.
        blocker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            os.kill(database.embedded.pid, signal.SIGKILL)
            # Take its port, so restarts fail, as they do while the disk is still full.
            _wait_for(lambda: _bind(blocker, port), 2, "the port", step_s=0.005)
            blocker.listen()
            _wait_for(lambda: printed.getvalue().count("did not start") >= 2, 15, "2 failures")
            delays = [float(d) for d in re.findall(r"restarting in ([\d.]+) s", printed.getvalue())]
            assert delays[:3] == [0.5, 1.0, 2.0], delays
        finally:
            blocker.close()
        _wait_for(lambda: database.healthy_since, 15, "the database back once its port is free")
        assert _write(database.embedded.uri)


def _bind(sock: socket.socket, port: int) -> bool:
    try:
        sock.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False


@pytest.mark.parametrize("returncode,reason", [(-9, "killed by SIGKILL"), (3, "exit code 3")])
def test_exit_reasons_name_the_signal(returncode: int, reason: str):
    from jobunivers.supervisor import exit_reason

    assert exit_reason(returncode) == reason
