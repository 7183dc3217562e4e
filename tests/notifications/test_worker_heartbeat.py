"""The worker's liveness for orchestrators: each turn of its loop touches a heartbeat file,
also while the database is unreachable (an outage is not a dead worker), and
`jobunivers healthcheck worker` exits 1 when that file is missing or stale."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time

from notifications.directory import Directory
from notifications.transports import LocalTransport
from notifications.worker import run_worker
from store.client import Store
from store.embedded import free_port


def _healthcheck(data_dir) -> int:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JOBUNIVERS_")}
    env["JOBUNIVERS_DATA_DIR"] = str(data_dir)
    return subprocess.run(
        [sys.executable, "-m", "jobunivers.cli", "healthcheck", "worker", "--max-age", "5"],
        env=env, capture_output=True, timeout=60, check=False,
    ).returncode  # fmt: skip


async def _turns(db, heartbeat, seconds: float) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.call_later(seconds, stop.set)
    directory: Directory = None  # type: ignore[assignment]  # no message is due: never asked
    await run_worker(db, LocalTransport(), directory, stop, poll_interval_s=0.2,
                     heartbeat=heartbeat)  # fmt: skip


def test_heartbeat_is_touched_and_checked(tmp_path):
    data_dir = tmp_path / "var"
    data_dir.mkdir()
    assert _healthcheck(data_dir) == 1  # no worker has run
    heartbeat = data_dir / "worker.heartbeat"
    # a database nobody answers on: every turn fails, the heartbeat still goes on
    store = Store(f"mongodb://127.0.0.1:{free_port()}/", "nobody", operation_timeout_ms=200)

    async def main() -> None:
        try:
            await _turns(store.db, heartbeat, 1.5)
        finally:
            await store.close()

    asyncio.run(main())
    assert heartbeat.exists() and time.time() - heartbeat.stat().st_mtime < 3
    assert _healthcheck(data_dir) == 0
    old = time.time() - 30
    os.utime(heartbeat, (old, old))
    assert _healthcheck(data_dir) == 1  # stale: the worker hangs or is gone
