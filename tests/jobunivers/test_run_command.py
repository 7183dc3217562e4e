"""`jobunivers run` end to end, as `make run` starts it: embedded database, demo seed, printed
dev tokens, API and worker; SIGINT (Ctrl-C) stops all of it, database included."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from pymongo import MongoClient

from core.settings import Settings
from seed.taxonomy import write_taxonomy_slice
from store.embedded import EmbeddedDatabase, answers_ping, free_port


def _wait_for(predicate, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def _ready(url: str, times: int = 8) -> bool:
    """Ready ``times`` in a row, each on a new connection: `jobunivers run` serves with several
    API processes on one port (one per core, at most two), each ready once its own search index
    is loaded, and a connection reaches whichever process accepts it first."""
    try:
        return all(httpx.get(url, timeout=1).status_code == 200 for _ in range(times))
    except httpx.HTTPError:
        return False


def _taxonomy_slice(target: Path) -> Path:
    """The shared taxonomy cut down to warehouse and transport work (ISCO 93xx, 83xx, 43xx),
    so this lifecycle test does not spend a minute embedding 12,000 labels."""
    return write_taxonomy_slice(Settings().taxonomy_dir, target, ("93", "83", "43"))


def test_run_serves_seeded_data_and_stops_cleanly(tmp_path: Path):
    api_port, db_port = free_port(), free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("JOBUNIVERS_")},
        "JOBUNIVERS_PORT": str(api_port),
        "JOBUNIVERS_EMBEDDED_DB_PORT": str(db_port),
        "JOBUNIVERS_DATA_DIR": str(tmp_path / "var"),
        "JOBUNIVERS_EMBEDDED_DB_CACHE_SIZE": "128M",
        "JOBUNIVERS_LOG_JSON": "false",
        # A small demo set: this test is about the process lifecycle, not seeding speed.
        "JOBUNIVERS_DEMO_COMPANIES": "20",
        "JOBUNIVERS_DEMO_POSTINGS": "60",
        "JOBUNIVERS_DEMO_OFFERS": "5",
        "JOBUNIVERS_DEMO_CITIZENS": "20",
        "JOBUNIVERS_TAXONOMY_DIR": str(_taxonomy_slice(tmp_path / "taxonomy")),
    }
    env.pop("MONGODB_URI", None)
    out = tmp_path / "run.out"
    with open(out, "wb") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "jobunivers.cli", "run"],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            _wait_for(lambda: _ready(f"http://127.0.0.1:{api_port}/readyz"), 240, "readyz")
            text = out.read_text()
            assert "Demo data seeded in" in text
            ready = httpx.get(f"http://127.0.0.1:{api_port}/readyz", timeout=5).json()
            assert ready["ready"] is True
            tokens = re.findall(r'"Authorization": "Bearer ([^"]+)"', text)
            assert len(tokens) == 2
            response = httpx.post(
                f"http://127.0.0.1:{api_port}/graphql",
                json={"query": "{ viewer { id role displayName company { name } } }"},
                headers={"Authorization": f"Bearer {tokens[1]}"},
                timeout=10,
            )
            viewer = response.json()["data"]["viewer"]
            assert viewer["role"] == "EMPLOYER"
            assert viewer["company"]["name"] == "Østjysk Lager & Logistik ApS"
            assert response.headers["x-request-id"]
        finally:
            proc.send_signal(signal.SIGINT)
            assert proc.wait(timeout=60) == 0
    db_uri = f"mongodb://127.0.0.1:{db_port}/"
    assert not answers_ping(db_uri), "the embedded database must stop with Ctrl-C"
    assert not _ready(f"http://127.0.0.1:{api_port}/healthz")
    assert "Stopped." in out.read_text()
    # The data is on disk under data_dir: a second run finds it and does not seed again.
    storage = tmp_path / "var" / "db"
    assert any(storage.iterdir())
    with (
        EmbeddedDatabase(storage, port=db_port, cache_size="128M") as db,
        MongoClient(db.uri) as client,
    ):
        db_ = client.jobunivers
        assert db_.companies.count_documents({}) == 21  # 20 generated plus the demo company
        assert db_.citizens.find_one({"_id": "demo-borger-aarhus"})["town"] == "Aarhus C"


def test_db_command_stops_on_sigterm_and_sigint(tmp_path: Path):
    """`jobunivers db` (a container's or a service manager's database process) stops on SIGTERM
    as on Ctrl-C, and takes the database server with it."""
    for sig in (signal.SIGTERM, signal.SIGINT):
        port = free_port()
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("JOBUNIVERS_")},
            "JOBUNIVERS_EMBEDDED_DB_PORT": str(port),
            "JOBUNIVERS_DATA_DIR": str(tmp_path / sig.name),
            "JOBUNIVERS_EMBEDDED_DB_CACHE_SIZE": "64M",
        }
        env.pop("MONGODB_URI", None)
        proc = subprocess.Popen(
            [sys.executable, "-m", "jobunivers.cli", "db"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        uri = f"mongodb://127.0.0.1:{port}/"
        try:
            _wait_for(lambda uri=uri: answers_ping(uri), 60, "the embedded database")
            time.sleep(1.2)  # well inside the command's wait loop
            proc.send_signal(sig)
            assert proc.wait(timeout=40) == 0, sig.name
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
        assert not answers_ping(uri), f"the database server must stop with {sig.name}"
