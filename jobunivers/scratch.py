"""A whole stack on a scratch data directory, for benchmarks that break things on purpose:
`jobunivers run` (the embedded database, demo data, the API and the push worker under the
supervisor) started as a child process on free ports, its processes found by their command
lines, and app traffic sent over HTTP exactly as the phone app sends it.

Nothing here touches the developer's own `var/`: every path is under the root it is given.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import httpx

from api.auth.actor import Role
from api.auth.local_tokens import mint_local_token
from core.settings import Settings
from seed.taxonomy import write_taxonomy_slice
from store.embedded import free_port

# Warehouse, transport and clerical work: enough for decks and suggestions, and the API starts
# in seconds instead of embedding all 13,000 occupation labels.
TAXONOMY_GROUPS = ("93", "83", "43", "1324")
TOKEN_SECRET = "scratch-stack-" + "s" * 40

ADD_APPLICATION = """mutation AddJobApplication($input: JobApplicationInput!) {
  addJobApplication(input: $input) { id }
}"""
SWIPE = """mutation Swipe($offerId: ID!, $decision: SwipeDecision!) {
  swipe(offerId: $offerId, decision: $decision) { offerId decision request { id } }
}"""
ACCEPT = """mutation Accept($id: ID!, $slotId: ID!) {
  acceptMeetingRequest(id: $id, slotId: $slotId) { id status }
}"""


def _proc_children(parent: int) -> list[tuple[int, str]]:
    """(pid, command line) of the live children of ``parent`` (Linux /proc)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == parent and fields[0] != "Z":
            found.append((int(entry), cmdline))
    return found


@dataclass
class ScratchStack:
    root: Path
    citizens: int = 150
    companies: int = 20
    postings: int = 60
    offers: int = 40
    extra_env: dict[str, str] = field(default_factory=dict)
    api_port: int = field(default_factory=free_port)
    db_port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def db_uri(self) -> str:
        return f"mongodb://127.0.0.1:{self.db_port}/"

    @property
    def data_dir(self) -> Path:
        return self.root / "var"

    @property
    def log(self) -> Path:
        return self.root / "run.log"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("JOBUNIVERS_")}
        env.pop("MONGODB_URI", None)
        env.pop("FIREBASE_AUTH_EMULATOR_HOST", None)
        taxonomy = self.root / "taxonomy"
        if not taxonomy.exists():
            write_taxonomy_slice(Settings().taxonomy_dir, taxonomy, TAXONOMY_GROUPS)
        env.update(
            {
                "JOBUNIVERS_MODE": "local",
                "JOBUNIVERS_DATA_DIR": str(self.data_dir),
                "JOBUNIVERS_PORT": str(self.api_port),
                "JOBUNIVERS_EMBEDDED_DB_PORT": str(self.db_port),
                "JOBUNIVERS_EMBEDDED_DB_CACHE_SIZE": "128M",
                "JOBUNIVERS_TAXONOMY_DIR": str(taxonomy),
                "JOBUNIVERS_LOCAL_TOKEN_SECRET": TOKEN_SECRET,
                "JOBUNIVERS_LOG_JSON": "true",
                "JOBUNIVERS_DEMO_CITIZENS": str(self.citizens),
                "JOBUNIVERS_DEMO_COMPANIES": str(self.companies),
                "JOBUNIVERS_DEMO_POSTINGS": str(self.postings),
                "JOBUNIVERS_DEMO_OFFERS": str(self.offers),
                # Fault runs swipe far more than a citizen's daily quota allows.
                "JOBUNIVERS_DAILY_YES_SWIPES": "100000",
                **self.extra_env,
            }
        )
        return env

    def start(self, timeout_s: float = 300.0) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        env = self.env()
        with self.log.open("ab") as sink:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "jobunivers.cli", "run"],
                env=env,
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        if not self.wait_ready(timeout_s):
            tail = self.log.read_text(errors="replace")[-3000:]
            self.stop()
            raise RuntimeError(f"the scratch stack did not become ready:\n{tail}")

    def ready(self) -> bool:
        try:
            return httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def wait_ready(self, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                return False
            if self.ready():
                return True
            time.sleep(0.2)
        return False

    def pids(self) -> dict[str, int]:
        """The supervisor's live children by role: database, api, worker."""
        assert self.process is not None
        roles: dict[str, int] = {}
        for pid, cmdline in _proc_children(self.process.pid):
            if "secantusd" in cmdline:
                roles["database"] = pid
            elif "jobunivers.cli serve" in cmdline:
                roles["api"] = pid
            elif "jobunivers.cli worker" in cmdline:
                roles["worker"] = pid
        return roles

    def wait_for_new(self, role: str, old_pid: int | None, timeout_s: float) -> int | None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            pid = self.pids().get(role)
            if pid is not None and pid != old_pid:
                return pid
            time.sleep(0.05)
        return None

    def token(self, subject: str, role: Role = Role.CITIZEN, cvr: str | None = None) -> str:
        return mint_local_token(TOKEN_SECRET, subject, role, cvr, timedelta(hours=2))

    def stop(self) -> None:
        proc = self.process
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        self.process = None

    def kill_everything(self) -> None:
        """kill -9 the supervisor and every child, as a power cut would (minus the disk)."""
        assert self.process is not None
        victims = [self.process.pid, *self.pids().values()]
        for pid in victims:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.process.wait()
        self.process = None


@dataclass
class Answer:
    started: float  # monotonic
    seconds: float
    code: str  # OK, or the GraphQL error code, or HTTP_<status> / TRANSPORT
    value: object = None  # what was acknowledged (an id, a pair)


@dataclass
class Traffic:
    """App requests at a fixed arrival rate (open loop: a slow answer does not slow arrivals)."""

    url: str
    answers: list[Answer] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0
    send_lags: list[float] = field(default_factory=list)  # seconds each request left late

    async def call(
        self, client: httpx.AsyncClient, token: str, query: str, variables: dict, pick
    ) -> Answer:
        started = time.monotonic()
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            response = await client.post(
                f"{self.url}/graphql",
                json={"query": query, "variables": variables},
                headers={"Authorization": f"Bearer {token}"},
            )
            code, value = "OK", None
            try:
                body = response.json()
            except ValueError:
                body = None
            if not isinstance(body, dict):
                code = f"HTTP_{response.status_code}"
            elif body.get("errors"):
                code = str(body["errors"][0].get("extensions", {}).get("code", "NO_CODE"))
            elif response.status_code != 200 or not body.get("data"):
                code = f"HTTP_{response.status_code}"
            else:
                value = pick(body["data"])
        except httpx.HTTPError:
            code, value = "TRANSPORT", None
        finally:
            self.in_flight -= 1
        answer = Answer(started, time.monotonic() - started, code, value)
        self.answers.append(answer)
        return answer

    async def run(self, rate: float, seconds: float, make_call) -> None:
        """``make_call(client, i)`` returns the coroutine of request ``i``."""
        limits = httpx.Limits(max_connections=2000, max_keepalive_connections=200)
        async with httpx.AsyncClient(timeout=60, limits=limits) as client:
            tasks = []
            start = time.monotonic()
            i = 0
            while (due := start + i / rate) < start + seconds:
                await asyncio.sleep(max(0.0, due - time.monotonic()))
                self.send_lags.append(max(0.0, time.monotonic() - due))
                tasks.append(asyncio.create_task(make_call(client, i)))
                i += 1
            await asyncio.gather(*tasks)

    def acknowledged(self) -> list[object]:
        return [a.value for a in self.answers if a.code == "OK"]

    def codes(self) -> dict[str, int]:
        return dict(Counter(a.code for a in self.answers))


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]
