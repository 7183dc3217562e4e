"""`jobunivers run`: the whole local stack in one terminal, kept running.

Order on start: embedded database -> indexes and demo data -> API and push worker (as child
processes). From then on the supervisor restarts whichever of the three stops, with back-off,
and says why on the console:

- the API (`serve`) or the push worker (`worker`) when it exits, whatever the cause (exit code or
  signal); a worker crash never touches the API or the database;
- the embedded database when it exits, and when it still runs but no longer takes writes. A
  WiredTiger that panicked (a full disk, say) still answers ping while every read and write
  fails, so every ``supervisor_probe_interval_s`` the supervisor makes one small durable write
  (w: majority, j: true) to a collection of its own (see `SupervisedDatabase` for which failed
  probes count). A restart that fails (the disk is still full) is retried with back-off, so the
  database comes back once space allows.

Back-off: 0.5 s after the first stop, doubling to at most ``supervisor_backoff_max_s``; it starts
over once a process has run healthily for STABLE_AFTER_S.

On Ctrl-C or SIGTERM the API and worker stop first, then the database, so WiredTiger closes
cleanly. Children run in their own sessions so the terminal's SIGINT reaches only this
supervisor, which then stops them in that order.

The current pids are in ``<data_dir>/run-pids.json`` (for operators and the fault tests):
``{"supervisor": ..., "database": ..., "api": ..., "worker": ...}``, null while one is down.

The API is `serve --workers N` (``default_api_workers``: JOBUNIVERS_API_WORKERS, else one per
core, at most two): "api" is uvicorn's parent process, which runs the N API processes on the
one port and replaces one that dies. When the parent itself stops, whatever is left of its
process group is killed before it is restarted, so no orphan keeps the port.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pymongo import MongoClient, WriteConcern
from pymongo.collection import Collection
from pymongo.errors import OperationFailure, PyMongoError
from rich.console import Console
from rich.markup import escape

from api.auth.actor import Role
from api.auth.local_tokens import mint_local_token
from core.settings import Settings
from seed.demo import DEMO_CITIZEN_ID, DEMO_COMPANY_CVR, DEMO_EMPLOYER_ID
from seed.generator import SeedSpec
from store.embedded import EmbeddedDatabase, EmbeddedDatabaseError, answers_ping

from .bootstrap import prepare_database

BACKOFF_START_S = 0.5
# A process that has run (and, for the database, taken writes) this long is healthy again: its
# next stop is restarted after BACKOFF_START_S, not after the grown back-off.
STABLE_AFTER_S = 10.0
TICK_S = 0.2
# A probe write on a healthy local server takes milliseconds; one second is generous and keeps
# the loop (which also watches the API and worker) from blocking long.
PROBE_TIMEOUT_S = 1.0
PROBE_FAILURES_BEFORE_RESTART = 3
SILENT_RESTART_AFTER_S = 30.0
DATABASE_READY_TIMEOUT_S = 60.0
# The supervisor's own namespace: the probe never touches the app's collections.
PROBE_DATABASE = "_supervisor"
PROBE_COLLECTION = "probe"
PID_FILE_NAME = "run-pids.json"


def pid_file(settings: Settings) -> Path:
    return settings.data_dir / PID_FILE_NAME


def exit_reason(returncode: int) -> str:
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exit code {returncode}"


def process_state(pid: int | None) -> str | None:
    """The state letter in /proc/<pid>/stat (R, S, D, T for stopped, Z ...), None when there is
    no such process. Linux only."""
    if pid is None:
        return None
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name in parentheses may itself hold spaces or ')': the state follows the last.
    return stat.rpartition(")")[2].split()[0]


def is_paused(pid: int | None) -> bool:
    return process_state(pid) in ("T", "t")  # SIGSTOP (T) or a tracer's stop (t)


class Backoff:
    def __init__(self, cap_s: float, start_s: float = BACKOFF_START_S) -> None:
        self.start_s = start_s
        self.cap_s = max(cap_s, start_s)
        self._next = start_s

    def delay(self, healthy_for_s: float) -> float:
        """The wait before the next restart of a process that had been healthy this long."""
        if healthy_for_s >= STABLE_AFTER_S:
            self._next = self.start_s
        delay = self._next
        self._next = min(delay * 2, self.cap_s)
        return delay


def _spawn(args: list[str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "jobunivers.cli", *args], start_new_session=True)


class SupervisedChild:
    """The API or the push worker: a `jobunivers` subcommand, restarted whenever it exits."""

    def __init__(self, name: str, args: list[str], console: Console, backoff_max_s: float):
        self.name = name
        self.args = args
        self.console = console
        self.backoff = Backoff(backoff_max_s)
        self.process: subprocess.Popen[bytes] | None = None
        self.started_at = 0.0
        self.restart_at: float | None = None
        self.down_since: float | None = None
        self.restarts = 0

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def start(self, now: float) -> None:
        self.process = _spawn(self.args)
        self.started_at = now

    def tick(self, now: float) -> None:
        if self.process is not None:
            code = self.process.poll()  # reaps it: an exited child never lingers as a zombie
            if code is None:
                return
            ran_s = now - self.started_at
            delay = self.backoff.delay(ran_s)
            _kill_group(self.process.pid)  # `serve --workers N`: no process of it outlives it
            self.process = None
            self.down_since = now
            self.restart_at = now + delay
            self.console.print(
                f"[yellow]{self.name} stopped ({exit_reason(code)}) after {ran_s:.1f} s; "
                f"restarting in {delay:.1f} s[/]"
            )
        elif self.restart_at is not None and now >= self.restart_at:
            self.restart_at = None
            self.restarts += 1
            self.start(now)
            down_s = now - (self.down_since or now)
            self.console.print(
                f"{self.name} restarted (pid {self.pid}, restart {self.restarts}, "
                f"{down_s:.1f} s after it stopped)"
            )

    def begin_stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)

    def finish_stop(self, timeout_s: float = 15.0) -> None:
        proc, self.process = self.process, None
        if proc is None:
            return
        try:
            proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        _kill_group(proc.pid)


def _kill_group(pgid: int) -> None:
    """SIGKILL what is left of a child's process group (each child leads its own session): the
    API processes `serve --workers N` spawned, should their parent have died without stopping
    them (they would keep the port, and the restarted API could not bind it)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):  # none left
        os.killpg(pgid, signal.SIGKILL)


class SupervisedDatabase:
    """The embedded database (already started by the caller), restarted when it exits and when
    it no longer takes writes while it runs.

    Which failed probes count:

    - the server answers the probe write with an error (it refused the write: a panicked
      WiredTiger): PROBE_FAILURES_BEFORE_RESTART in a row, about 6 s at the default 2 s
      interval, and it is killed and restarted;
    - no answer in time while the process runs: it is killed and restarted once no probe has
      been answered for SILENT_RESTART_AFTER_S (a hung server; a merely slow one under load
      gets that long before losing its in-flight work to a restart);
    - a stopped process (state T in /proc/<pid>/stat: SIGSTOP, a debugger) is not probed and
      nothing counts: a paused process is not a broken one, it resumes where it was on
      SIGCONT, and killing it would turn a pause (the issue's 30 s stall) into an outage.

    Killing, not SIGTERM: a panicked WiredTiger cannot checkpoint, and commits are journaled at
    commit time, so SIGKILL loses nothing acknowledged; the next start recovers from the log and
    clears any failpoint a fault test armed.
    """

    name = "database"

    def __init__(
        self,
        embedded: EmbeddedDatabase,
        console: Console,
        *,
        probe_interval_s: float,
        backoff_max_s: float,
        failures_before_restart: int = PROBE_FAILURES_BEFORE_RESTART,
        silent_restart_after_s: float = SILENT_RESTART_AFTER_S,
        probe_timeout_s: float = PROBE_TIMEOUT_S,
        ready_timeout_s: float = DATABASE_READY_TIMEOUT_S,
    ) -> None:
        self.embedded = embedded
        self.console = console
        self.probe_interval_s = probe_interval_s
        self.failures_before_restart = failures_before_restart
        self.silent_restart_after_s = silent_restart_after_s
        self.probe_timeout_s = probe_timeout_s
        self.ready_timeout_s = ready_timeout_s
        self.backoff = Backoff(backoff_max_s)
        self.state = "running"  # running | waiting (to restart) | starting (until it answers)
        now = time.monotonic()
        self.next_probe_at = now
        self.restart_at = 0.0
        self.ready_deadline = 0.0
        self.down_since: float | None = None
        self.healthy_since: float | None = None
        self.refused = 0  # consecutive probes answered with an error
        self.silent_since: float | None = None  # first of the consecutive unanswered probes
        self.paused = False
        self.restarts = 0
        self._client: MongoClient | None = None

    @property
    def pid(self) -> int | None:
        return self.embedded.pid if self.state != "waiting" else None

    def _probe_collection(self) -> Collection:
        if self._client is None:
            ms = int(self.probe_timeout_s * 1000)
            self._client = MongoClient(
                self.embedded.uri,
                directConnection=True,
                serverSelectionTimeoutMS=ms,
                connectTimeoutMS=ms,
                timeoutMS=ms,
                retryWrites=False,
                appname="jobunivers-supervisor",
            )
        return self._client[PROBE_DATABASE].get_collection(
            PROBE_COLLECTION, write_concern=WriteConcern(w="majority", j=True)
        )

    def tick(self, now: float) -> None:
        proc = self.embedded.process
        if self.state == "running":
            if proc is None or proc.poll() is not None:  # poll() reaps it
                self.embedded.process = None
                why = exit_reason(proc.returncode) if proc is not None else "gone"
                self._schedule_restart(now, f"exited ({why})")
            elif now >= self.next_probe_at:
                self.next_probe_at = now + self.probe_interval_s
                self._probe(now)
        elif self.state == "waiting":
            if now >= self.restart_at:
                self._launch(now)
        elif self.state == "starting":
            assert proc is not None
            if proc.poll() is not None:
                self.embedded.process = None
                self._schedule_restart(
                    now,
                    f"did not start ({exit_reason(proc.returncode)}; see {self.embedded.log_file})",
                )
            elif answers_ping(self.embedded.uri, timeout_s=0.3):
                self.state = "running"
                self.next_probe_at = now  # prove at once that it takes writes again
                self.console.print(
                    f"database back (pid {self.embedded.pid}, restart {self.restarts}, "
                    f"{now - (self.down_since or now):.1f} s after it was found down)"
                )
            elif now >= self.ready_deadline:
                self.embedded.kill()
                self._schedule_restart(
                    now, f"did not answer within {self.ready_timeout_s:.0f} s of its start"
                )

    def _probe(self, now: float) -> None:
        pid = self.embedded.pid
        if is_paused(pid):
            if not self.paused:
                self.console.print(
                    f"[yellow]database paused (pid {pid} is stopped); not probing it until "
                    "it continues[/]"
                )
            self.paused = True
            self.silent_since = None
            return
        if self.paused:
            self.console.print(f"database continues (pid {pid})")
            self.paused = False
        try:
            self._probe_collection().update_one(
                {"_id": "probe"},
                {"$set": {"at": datetime.now(UTC)}, "$inc": {"n": 1}},
                upsert=True,
            )
        except PyMongoError as e:
            self.healthy_since = None
            if isinstance(e, OperationFailure) and not e.timeout:
                self.silent_since = None
                self.refused += 1
                self.console.print(
                    f"[yellow]database refused a write probe ({type(e).__name__}, code "
                    f"{e.code}; {self.refused} of {self.failures_before_restart})[/]"
                )
                if self.refused >= self.failures_before_restart:
                    self._kill_and_restart(
                        now, f"refused {self.refused} write probes in a row (code {e.code})"
                    )
                return
            if is_paused(pid):  # stopped while the probe waited: that pause is not a failure
                return
            self.refused = 0
            if self.silent_since is None:
                self.silent_since = now
                self.console.print(
                    f"[yellow]database did not answer a write probe ({type(e).__name__}); "
                    f"restarting it if none is answered for {self.silent_restart_after_s:.0f} s[/]"
                )
            elif now - self.silent_since >= self.silent_restart_after_s:
                self._kill_and_restart(
                    now,
                    f"answered no write probe for {now - self.silent_since:.0f} s "
                    f"({type(e).__name__})",
                )
            return
        self.refused = 0
        self.silent_since = None
        self.down_since = None  # a write went through: the outage, if any, is over
        if self.healthy_since is None:
            self.healthy_since = now

    def _kill_and_restart(self, now: float, why: str) -> None:
        pid = self.embedded.pid
        self.embedded.kill()
        self._schedule_restart(now, f"{why}; killed pid {pid}")

    def _schedule_restart(self, now: float, why: str) -> None:
        healthy_for_s = now - self.healthy_since if self.healthy_since is not None else 0.0
        delay = self.backoff.delay(healthy_for_s)
        self.state = "waiting"
        self.restart_at = now + delay
        if self.down_since is None:
            self.down_since = now
        self.healthy_since = None
        self.refused = 0
        self.silent_since = None
        self.paused = False
        self.console.print(f"[red]database {escape(why)}; restarting in {delay:.1f} s[/]")

    def _launch(self, now: float) -> None:
        self.restarts += 1
        try:
            self.embedded.launch()
        except (EmbeddedDatabaseError, OSError) as e:
            self._schedule_restart(now, f"could not be started ({e})")
            return
        self.state = "starting"
        self.ready_deadline = now + self.ready_timeout_s

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


class Supervisor:
    """Ticks every supervised process until told to stop; keeps the pid file current."""

    def __init__(
        self,
        children: list[SupervisedChild],
        database: SupervisedDatabase | None = None,
        pid_path: Path | None = None,
    ) -> None:
        self.children = children
        self.database = database
        self.pid_path = pid_path
        self._written: dict[str, int | None] | None = None

    def pids(self) -> dict[str, int | None]:
        found: dict[str, int | None] = {"supervisor": os.getpid()}
        if self.database is not None:
            found["database"] = self.database.pid
        for child in self.children:
            found[child.name] = child.pid
        return found

    def _write_pids(self) -> None:
        pids = self.pids()
        if self.pid_path is None or pids == self._written:
            return
        self.pid_path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.pid_path.with_suffix(".tmp")
        partial.write_text(json.dumps(pids))
        partial.replace(self.pid_path)  # readers never see half a file
        self._written = pids

    def run(self, should_stop: Callable[[], bool], tick_s: float = TICK_S) -> None:
        while not should_stop():
            now = time.monotonic()
            if self.database is not None:
                self.database.tick(now)
            for child in self.children:
                child.tick(now)
            self._write_pids()
            time.sleep(tick_s)

    def stop(self) -> None:
        """API and worker first (they may still be writing), then the database."""
        for child in self.children:
            child.begin_stop()
        for child in self.children:
            child.finish_stop()
        if self.database is not None:
            self.database.close()
            self.database.embedded.stop()
        if self.pid_path is not None:
            self.pid_path.unlink(missing_ok=True)


def default_api_workers(settings: Settings) -> int:
    """API processes for `jobunivers run`: JOBUNIVERS_API_WORKERS, else one per core, at most
    two (one on a one-core machine). Each process holds its own embedding model, indexes and
    offer vectors (measured: see README, "Several API processes"), and the database and the
    push worker share the same cores, so more than two buys nothing on a laptop."""
    if settings.api_workers is not None:
        return settings.api_workers
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, 2))


def _print_tokens(settings: Settings, console: Console) -> None:
    if settings.auth_provider != "local":
        return
    secret = settings.resolved_local_token_secret()
    ttl = timedelta(hours=settings.local_token_ttl_hours)
    citizen = mint_local_token(secret, DEMO_CITIZEN_ID, Role.CITIZEN, ttl=ttl)
    employer = mint_local_token(secret, DEMO_EMPLOYER_ID, Role.EMPLOYER, DEMO_COMPANY_CVR, ttl)
    url = f"http://{settings.host}:{settings.port}/graphql"
    console.print(f"\n[bold]GraphiQL:[/bold] {url}")
    console.print(
        "Paste one of these into GraphiQL's Headers tab, then run { viewer { id role } }\n"
    )
    console.print(f"[bold]Demo citizen[/bold] ({DEMO_CITIZEN_ID}):")
    print(f'{{"Authorization": "Bearer {citizen}"}}', flush=True)
    console.print(f"[bold]Demo employer[/bold] ({DEMO_EMPLOYER_ID}, CVR {DEMO_COMPANY_CVR}):")
    print(f'{{"Authorization": "Bearer {employer}"}}', flush=True)
    console.print(f"(valid {settings.local_token_ttl_hours} h; new ones: jobunivers token)\n")


def run_all(settings: Settings, console: Console) -> int:
    stopping = {"signal": None}

    def _on_signal(signum: int, _frame: object) -> None:
        stopping["signal"] = signum

    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)

    embedded: EmbeddedDatabase | None = None
    supervisor = Supervisor([], pid_path=pid_file(settings))
    try:
        if settings.uses_embedded_db:
            embedded = EmbeddedDatabase(
                settings.embedded_db_path,
                host=settings.embedded_db_host,
                port=settings.embedded_db_port,
                cache_size=settings.embedded_db_cache_size,
                # Fault tests arm failpoints through it; never on outside them.
                test_commands=settings.embedded_db_test_commands,
                sync_on_commit=settings.durable_writes,
            )
            if answers_ping(embedded.uri):
                console.print(f"Using the database already running on {embedded.uri}")
                embedded = None  # not ours: not supervised and not stopped
            else:
                console.print(f"Starting embedded database ({settings.embedded_db_path}) ...")
                embedded.start()
                supervisor.database = SupervisedDatabase(
                    embedded,
                    console,
                    probe_interval_s=settings.supervisor_probe_interval_s,
                    backoff_max_s=settings.supervisor_backoff_max_s,
                )
        spec = SeedSpec(
            companies=settings.demo_companies,
            postings=settings.demo_postings,
            offers=settings.demo_offers,
            citizens=settings.demo_citizens,
        )
        report = asyncio.run(
            prepare_database(settings, spec=spec, seed_if_empty=True, console=console)
        )
        if report is None:
            console.print("Database has data; not seeding.")
        else:
            console.print(f"Demo data seeded in {report.seconds:.1f} s.")
        _print_tokens(settings, console)
        now = time.monotonic()
        api_workers = default_api_workers(settings)
        console.print(f"API: {api_workers} process(es) (JOBUNIVERS_API_WORKERS)")
        serve = ["serve", "--workers", str(api_workers)]
        for name, args in (("api", serve), ("worker", ["worker"])):
            child = SupervisedChild(name, args, console, settings.supervisor_backoff_max_s)
            child.start(now)
            supervisor.children.append(child)
        supervisor.run(lambda: stopping["signal"] is not None)
        return 0
    finally:
        console.print("Stopping ...")
        supervisor.stop()
        if embedded is not None and supervisor.database is None:
            embedded.stop()  # started, but the seed failed before supervision began
        console.print("Stopped.")
