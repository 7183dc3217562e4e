"""The real server as `make run` starts it, for the end-to-end suite: the embedded database,
`jobunivers seed` (a small demo set over a taxonomy slice), then `jobunivers serve` as its own
process on a free port, and `jobunivers token` for local dev tokens. Nothing is imported from
the app but the embedded database's launcher: the suite talks to the processes only over
their command lines and the network."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from core.settings import Settings
from seed.taxonomy import write_taxonomy_slice
from store.embedded import EmbeddedDatabase, free_port

# Warehouse, transport and clerical work (ISCO 2-digit groups), and the warehouse manager
# (1324) the demo data refers to: enough for the demo accounts, the typeahead and title
# normalisation, without embedding all 13,000 labels at every run (most of the start-up).
TAXONOMY_GROUPS = ("93", "83", "43", "1324")

# Small enough that seeding, embedding and the whole suite stay well under three minutes on
# two cores; large enough for decks, suggestions and several companies.
SEED_ARGS = (
    "--citizens", "12",
    "--companies", "8",
    "--postings", "60",
    "--offers", "4",
    "--seed", "14",
)  # fmt: skip

TOKEN_SECRET = "e2e-secret-" + "z" * 40


def _cli() -> list[str]:
    return [sys.executable, "-m", "jobunivers.cli"]


def taxonomy_slice(target: Path) -> Path:
    """The shared taxonomy files cut down to TAXONOMY_GROUPS (all ISCO group labels kept)."""
    return write_taxonomy_slice(Settings().taxonomy_dir, target, TAXONOMY_GROUPS)


@dataclass
class RunningServer:
    url: str  # http://127.0.0.1:PORT
    env: dict[str, str] = field(repr=False)  # never printed in a failure report
    log: Path = field(repr=False)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def graphql_url(self) -> str:
        return f"{self.url}/graphql"

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://", 1) + "/graphql"

    def token(
        self, role: str, subject: str, cvr: str | None = None, hours: int | None = None
    ) -> str:
        """A local dev token from `jobunivers token`, as a developer mints one."""
        args = [*_cli(), "token", "--role", role, "--subject", subject]
        if cvr:
            args += ["--cvr", cvr]
        if hours is not None:
            args += ["--hours", str(hours)]
        out = subprocess.run(
            args, env=self.env, capture_output=True, text=True, timeout=60, check=False
        )
        assert out.returncode == 0, out.stderr
        return out.stdout.strip().splitlines()[-1]

    def log_tail(self, chars: int = 6000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return ""


def server_env(data_dir: Path, db_port: int, api_port: int, taxonomy: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JOBUNIVERS_")}
    env.pop("MONGODB_URI", None)  # the embedded database, as `make run` uses it
    env.pop("FIREBASE_AUTH_EMULATOR_HOST", None)
    env.update(
        {
            "JOBUNIVERS_MODE": "local",
            "JOBUNIVERS_DATA_DIR": str(data_dir),
            "JOBUNIVERS_EMBEDDED_DB_PORT": str(db_port),
            "JOBUNIVERS_EMBEDDED_DB_CACHE_SIZE": "128M",
            "JOBUNIVERS_PORT": str(api_port),
            "JOBUNIVERS_TAXONOMY_DIR": str(taxonomy),
            "JOBUNIVERS_LOCAL_TOKEN_SECRET": TOKEN_SECRET,
            "JOBUNIVERS_LOG_JSON": "true",
            # Background work runs as in production, only more often: expiry, reminders and
            # index sync, and the job agent turning new postings into alerts.
            "JOBUNIVERS_HOUSEKEEPING_INTERVAL_S": "5",
            "JOBUNIVERS_JOB_AGENT_INTERVAL_S": "2",
            "JOBUNIVERS_SERVER_SELECTION_TIMEOUT_MS": "5000",
        }
    )
    return env


def _ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/readyz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def start(root: Path) -> tuple[EmbeddedDatabase, subprocess.Popen[bytes], RunningServer]:
    """Database, seed, serve; returns when /readyz answers 200."""
    data_dir = root / "var"
    db_port, api_port = free_port(), free_port()
    env = server_env(data_dir, db_port, api_port, taxonomy_slice(root / "taxonomy"))
    timings: dict[str, float] = {}
    started = time.perf_counter()
    db = EmbeddedDatabase(data_dir / "db", port=db_port, cache_size="128M")
    db.start()
    timings["database_s"] = time.perf_counter() - started
    log = root / "server.log"
    try:
        t0 = time.perf_counter()
        seeded = subprocess.run(
            [*_cli(), "seed", *SEED_ARGS],
            env=env,
            capture_output=True,
            text=True,
            timeout=400,
            check=False,
        )
        timings["seed_s"] = time.perf_counter() - t0
        assert seeded.returncode == 0, seeded.stdout[-3000:] + seeded.stderr[-3000:]
        t0 = time.perf_counter()
        sink = log.open("wb")
        proc = subprocess.Popen(
            [*_cli(), "serve", "--port", str(api_port)],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        sink.close()
    except BaseException:
        db.stop()
        raise
    server = RunningServer(url=f"http://127.0.0.1:{api_port}", env=env, log=log, timings=timings)
    deadline = time.monotonic() + 240
    while not _ready(server.url):
        if proc.poll() is not None or time.monotonic() > deadline:
            stop(proc, db)
            raise AssertionError("jobunivers serve did not become ready:\n" + server.log_tail())
        time.sleep(0.3)
    timings["serve_ready_s"] = time.perf_counter() - t0
    return db, proc, server


def stop_process(proc: subprocess.Popen[bytes], timeout_s: float = 20) -> int | None:
    """SIGTERM, then kill its process group. Returns the exit code."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
    return proc.returncode


def stop(proc: subprocess.Popen[bytes], db: EmbeddedDatabase) -> int | None:
    """SIGTERM, then kill; then the database. Returns the server's exit code."""
    try:
        return stop_process(proc)
    finally:
        db.stop()
