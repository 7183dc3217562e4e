"""Several API processes against one database (issue 18, item 3).

Two `jobunivers serve` processes on two ports share one scratch database and one data
directory, with housekeeping every second: what is written through one process reaches the
other (a new posting is suggested by it, a closed one no longer; a new offer is in its deck,
a paused one leaves it and is back once resumed; an erased account is refused by it too).
Then `serve --workers 2`: one port, two processes, each answering on its own (the other
stopped with SIGSTOP meanwhile), both gone after SIGTERM.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from api.auth.actor import Role
from api.auth.local_tokens import mint_local_token
from store.embedded import EmbeddedDatabase, free_port
from tests.e2e import server as srv
from tests.e2e.actors import new_employer, posting_input, publish_offer, sign_up_citizen
from tests.e2e.ops import Api

SYNC_WITHIN_S = 20.0  # housekeeping runs every second here; generous for a loaded machine


@dataclass
class Minter:
    """What the e2e actors ask a server for: local dev tokens (minted here, not by the CLI)."""

    def token(self, role: str, subject: str, cvr: str | None = None, hours: int | None = None):
        return mint_local_token(srv.TOKEN_SECRET, subject, Role(role), cvr, timedelta(hours=2))


@dataclass
class Stack:
    env: dict[str, str]
    urls: list[str]
    logs: list[Path]
    data_dir: Path
    pids: list[int]
    pooled: subprocess.Popen[bytes]  # `serve --workers 2`, on a port of its own
    pooled_url: str
    pooled_log: Path


def _serve(env: dict[str, str], port: int, log: Path, *extra: str) -> subprocess.Popen[bytes]:
    with log.open("wb") as sink:
        return subprocess.Popen(
            [*srv._cli(), "serve", "--port", str(port), *extra],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _wait_ready(url: str, procs: list[subprocess.Popen[bytes]], logs: list[Path]) -> None:
    deadline = time.monotonic() + 240
    while not srv._ready(url):
        if any(p.poll() is not None for p in procs) or time.monotonic() > deadline:
            tails = "\n".join(log.read_text(errors="replace")[-3000:] for log in logs)
            raise AssertionError(f"{url} did not become ready:\n{tails}")
        time.sleep(0.3)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    srv.stop_process(proc, timeout_s=30)


@pytest.fixture(scope="module")
def two_processes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    root = tmp_path_factory.mktemp("api-workers")
    data_dir = root / "var"
    db_port = free_port()
    env = srv.server_env(data_dir, db_port, free_port(), srv.taxonomy_slice(root / "taxonomy"))
    env["JOBUNIVERS_HOUSEKEEPING_INTERVAL_S"] = "1"
    env["JOBUNIVERS_JOB_AGENT_INTERVAL_S"] = "0"  # not what this is about; spares the CPU
    db = EmbeddedDatabase(data_dir / "db", port=db_port, cache_size="128M")
    db.start()
    procs: list[subprocess.Popen[bytes]] = []
    try:
        seeded = subprocess.run(
            [*srv._cli(), "seed", *srv.SEED_ARGS],
            env=env,
            capture_output=True,
            text=True,
            timeout=400,
            check=False,
        )
        assert seeded.returncode == 0, seeded.stdout[-3000:] + seeded.stderr[-3000:]
        ports = [free_port(), free_port()]
        logs = [root / f"serve-{i}.log" for i in (1, 2)]
        # All at once, on one data directory: they share the index files and the cache.
        procs = [_serve(env, port, log) for port, log in zip(ports, logs, strict=True)]
        urls = [f"http://127.0.0.1:{port}" for port in ports]
        pooled_port, pooled_log = free_port(), root / "serve-workers.log"
        pooled = _serve(env, pooled_port, pooled_log, "--workers", "2")
        pooled_url = f"http://127.0.0.1:{pooled_port}"
        for url in [*urls, pooled_url]:
            _wait_ready(url, [*procs, pooled], [*logs, pooled_log])
        single = [p.pid for p in procs]
        procs.append(pooled)
        yield Stack(env, urls, logs, data_dir, single, pooled, pooled_url, pooled_log)
    finally:
        for proc in procs:
            _stop(proc)
        db.stop()


async def _until(check, what: str, timeout_s: float = SYNC_WITHIN_S):
    """Polls ``check`` (an async callable) until it returns a truthy value; bounded."""
    deadline = time.monotonic() + timeout_s
    last = None
    while time.monotonic() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(0.25)
    raise AssertionError(f"not within {timeout_s:.0f} s: {what} (last: {last!r})")


async def test_what_one_process_writes_reaches_the_other(two_processes: Stack):
    first_url, second_url = two_processes.urls
    first = Api(f"{first_url}/graphql", "")
    second = Api(f"{second_url}/graphql", "")
    minter = Minter()
    try:
        citizen = await sign_up_citizen(first, minter)  # type: ignore[arg-type]
        employer = await new_employer(first, minter)  # type: ignore[arg-type]

        async def suggested_by(api: Api) -> set[str]:
            # The employer's company name holds its CVR: only its postings match the search.
            variables = {"first": 50, "filter": {"search": employer.cvr}}
            page = (await api.run("RecommendedJobs", citizen.token, variables)).ok()
            return {e["node"]["posting"]["id"] for e in page["recommendedJobs"]["edges"]}

        assert await suggested_by(second) == set()
        created = await first.run(
            "CreateJobPosting", employer.token, {"input": posting_input("Lagermedarbejder")}
        )
        posting_id = created.ok()["createJobPosting"]["id"]
        assert posting_id in await suggested_by(first), "the writing process indexes at once"

        async def second_suggests() -> bool:
            return posting_id in await suggested_by(second)

        await _until(second_suggests, "the other process suggests the new posting")

        closed = await first.run("CloseJobPosting", employer.token, {"id": posting_id})
        assert closed.ok()["closeJobPosting"]["status"] == "CLOSED"

        async def second_forgets() -> bool:
            return posting_id not in await suggested_by(second)

        await _until(second_forgets, "the other process no longer suggests the closed posting")

        offer_id = (await publish_offer(first, employer, "Kaffe på lageret"))["id"]

        async def in_second_deck() -> bool:
            deck = (await second.run("SwipeDeck", citizen.token, {"first": 50})).ok()
            return offer_id in {c["offer"]["id"] for c in deck["swipeDeck"]}

        async def deck_of(api: Api) -> set[str]:
            deck = (await api.run("SwipeDeck", citizen.token, {"first": 50})).ok()
            return {c["offer"]["id"] for c in deck["swipeDeck"]}

        assert offer_id in await deck_of(first), "the writing process's catalogue has it at once"
        await _until(in_second_deck, "the new offer is in the deck the other process serves")

        # Paused through the first process: gone from the other's deck (its deck checks the
        # offers it returns, and its catalogue syncs); resumed: back in the other's deck,
        # which only its catalogue's sync can bring (the check dropped it there).
        paused = (await first.run("PauseOffer", employer.token, {"id": offer_id})).ok()
        assert paused["pauseOffer"]["status"] == "PAUSED"
        assert offer_id not in await deck_of(first)

        async def gone_from_second() -> bool:
            return offer_id not in await deck_of(second)

        await _until(gone_from_second, "the paused offer leaves the other process's deck")
        resumed = (await first.run("ResumeOffer", employer.token, {"id": offer_id})).ok()
        assert resumed["resumeOffer"]["status"] == "OPEN"
        await _until(in_second_deck, "the resumed offer is back in the other process's deck")

        assert (await second.run("Viewer", citizen.token)).ok()["viewer"]["id"] == citizen.id
        (await first.run("DeleteMyAccount", citizen.token)).ok()

        async def second_refuses() -> bool:
            answer = await second.run("Viewer", citizen.token)
            return answer.code == "UNAUTHENTICATED" and (
                answer.errors[0].get("extensions", {}).get("reason") == "ACCOUNT_DELETED"
            )

        await _until(second_refuses, "the other process refuses the erased account's token")
        print(f"RSS of the two serve processes (MB): {[_rss_mb(p) for p in two_processes.pids]}")
    finally:
        await first.close()
        await second.close()


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rpartition(")")[2].split()[1]) == pid:
            found.append(int(entry.name))
    return sorted(found)


def _answers(url: str, timeout_s: float = 1.5) -> bool:
    # A new connection each time: the kernel hands it to a process that is accepting.
    try:
        with httpx.Client(timeout=timeout_s) as client:
            return client.get(f"{url}/readyz").status_code == 200
    except httpx.HTTPError:
        return False


def _answers_alone(url: str, alone: int, others: list[int], timeout_s: float = 120) -> bool:
    """True once ``alone`` answers /readyz while the ``others`` are stopped (SIGSTOP, for at
    most about a second at a time: uvicorn's parent pings its processes and replaces one that
    has not answered within 5 s, which a loaded machine would otherwise reach)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for pid in others:
            os.kill(pid, signal.SIGSTOP)
        try:
            answered = _answers(url, timeout_s=1.0)
        finally:
            for pid in others:
                os.kill(pid, signal.SIGCONT)
        if answered:
            return True
        time.sleep(1.0)
    return False


def test_serve_workers_runs_processes_that_each_answer(two_processes: Stack):
    proc, url, log = two_processes.pooled, two_processes.pooled_url, two_processes.pooled_log
    # uvicorn's parent may also run multiprocessing's resource tracker: the API processes are
    # the spawned ones.
    workers = _children(proc.pid)
    api = [pid for pid in workers if "spawn_main" in _cmdline(pid)]
    assert len(api) == 2, (workers, [_cmdline(p) for p in workers], log.read_text()[-3000:])
    for pid in api:
        others = [p for p in api if p != pid]
        assert _answers_alone(url, pid, others), f"process {pid} did not answer on its own"
    rss = {"parent": _rss_mb(proc.pid), "api": [_rss_mb(p) for p in api]}
    print(f"RSS of serve --workers 2 (MB): {rss}")
    _stop(proc)
    assert proc.returncode == 0, log.read_text(errors="replace")[-3000:]
    assert not [p for p in api if _state(p) not in ("gone", "Z")], "SIGTERM stops them all"


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return "gone"


def _rss_mb(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) // 1024
    except OSError:
        pass
    return None
