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

from store.embedded import EmbeddedDatabase, answers_ping, free_port


def _wait_for(predicate, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def _ready(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def test_run_serves_seeded_data_and_stops_cleanly(tmp_path: Path):
    api_port, db_port = free_port(), free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("JOBUNIVERS_")},
        "JOBUNIVERS_PORT": str(api_port),
        "JOBUNIVERS_EMBEDDED_DB_PORT": str(db_port),
        "JOBUNIVERS_DATA_DIR": str(tmp_path / "var"),
        "JOBUNIVERS_EMBEDDED_DB_CACHE_SIZE": "128M",
        "JOBUNIVERS_LOG_JSON": "false",
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
            _wait_for(lambda: _ready(f"http://127.0.0.1:{api_port}/readyz"), 90, "readyz")
            text = out.read_text()
            assert "Demo data seeded in" in text
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
        assert db_.companies.count_documents({}) == 301  # the default 300 plus the demo company
        assert db_.citizens.find_one({"_id": "demo-borger-aarhus"})["town"] == "Aarhus C"
