"""The embedded database: SecantusDB's ``secantusd-py`` run as a child process.

SecantusDB is GPL, so the app never imports it; it only starts the server executable and talks
MongoDB's wire protocol to it over a socket, exactly as it talks to a real MongoDB in production.
"""

from __future__ import annotations

import logging
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from pymongo import MongoClient
from pymongo.errors import PyMongoError

log = logging.getLogger(__name__)


class EmbeddedDatabaseError(RuntimeError):
    pass


def find_server_executable() -> str:
    beside_python = Path(sys.executable).parent / "secantusd-py"
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which("secantusd-py")
    if not found:
        raise EmbeddedDatabaseError(
            "secantusd-py not found: install the 'secantusdb' package (make run does this)"
        )
    return found


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def answers_ping(uri: str, timeout_s: float = 0.5) -> bool:
    client: MongoClient = MongoClient(
        uri, serverSelectionTimeoutMS=int(timeout_s * 1000), connectTimeoutMS=500
    )
    try:
        client.admin.command("ping")
        return True
    except PyMongoError:
        return False
    finally:
        client.close()


class EmbeddedDatabase:
    """Starts, watches and stops one ``secantusd-py`` process with storage under ``path``."""

    def __init__(
        self,
        storage_path: Path,
        *,
        host: str = "127.0.0.1",
        port: int = 27018,
        cache_size: str = "512M",
        log_file: Path | None = None,
        standalone: bool = False,
        test_commands: bool = False,
        sync_on_commit: bool = True,
    ) -> None:
        """``standalone``: answer as a standalone server, which has no change streams (by
        default it answers as a one-node replica set, so change streams work without any
        ``--replSet``); tests of the polling fallback use it. ``test_commands``: allow
        ``configureFailPoint`` (fault tests only: any client could arm one). ``sync_on_commit``:
        fsync the log at every commit (SecantusDB honours a write's ``j: true`` but not a
        transaction's, and by default its log reaches the disk only with a checkpoint, so a
        kill -9 loses acknowledged writes); False only to measure what durability costs."""
        self.sync_on_commit = sync_on_commit
        self.standalone = standalone
        self.test_commands = test_commands
        self.storage_path = Path(storage_path)
        self.host = host
        self.port = port
        self.cache_size = cache_size
        self.log_file = log_file or self.storage_path.parent / "db.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def uri(self) -> str:
        return f"mongodb://{self.host}:{self.port}/"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    @property
    def alive(self) -> bool:
        """The server process exists and has not exited (a stopped, SIGSTOP'ed one is alive).
        Asking reaps an exited process, so a dead server never lingers as a zombie."""
        return self.process is not None and self.process.poll() is None

    def start(self, ready_timeout_s: float = 60.0) -> None:
        if self.alive:
            return
        self.launch()
        self._wait_ready(ready_timeout_s)
        assert self.process is not None
        log.info("embedded database started", extra={"port": self.port, "pid": self.process.pid})

    def launch(self) -> None:
        """Start the server process without waiting for it to answer (the supervisor waits
        for it in its own loop, so it keeps watching the API and the worker meanwhile)."""
        if self.alive:
            return
        if answers_ping(self.uri):
            raise EmbeddedDatabaseError(
                f"something already answers on {self.host}:{self.port}; stop it or choose "
                "another port (JOBUNIVERS_EMBEDDED_DB_PORT)"
            )
        self.storage_path.mkdir(parents=True, exist_ok=True)
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        cmd = [
            find_server_executable(),
            "--host",
            self.host,
            "--port",
            str(self.port),
            "--storage-path",
            str(self.storage_path),
            "--cache-size",
            self.cache_size,
            "--log-level",
            "WARNING",
        ]
        if self.standalone:
            cmd.append("--standalone")
        if self.test_commands:
            cmd.append("--enable-test-commands")
        if self.sync_on_commit:
            cmd.append("--sync-on-commit")
        with open(self.log_file, "ab") as out:
            # A session of its own: Ctrl-C in the terminal reaches only the supervisor, which
            # then stops the API and the worker before the database.
            self.process = subprocess.Popen(
                cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )

    def _wait_ready(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise EmbeddedDatabaseError(
                    f"secantusd-py exited with code {self.process.returncode}; see {self.log_file}"
                )
            if answers_ping(self.uri, timeout_s=0.3):
                return
            time.sleep(0.1)
        self.stop()
        raise EmbeddedDatabaseError(f"secantusd-py did not answer ping within {timeout_s:.0f} s")

    def stop(self, timeout_s: float = 30.0) -> None:
        proc = self.process
        if proc is None or proc.poll() is not None:
            self.process = None
            return
        proc.send_signal(signal.SIGTERM)  # lets WiredTiger checkpoint and close cleanly
        proc.send_signal(signal.SIGCONT)  # a paused (SIGSTOP'ed) server acts on it only then
        try:
            proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            log.warning("embedded database did not stop in time; killing it")
            proc.kill()
            proc.wait()
        self.process = None
        log.info("embedded database stopped")

    def kill(self) -> None:
        """SIGKILL and reap, for a server that panicked or hangs (SIGTERM would wait on a
        WiredTiger that can no longer checkpoint). Commits are journaled (sync_on_commit), so
        nothing acknowledged is lost; the next start recovers from the log."""
        proc = self.process
        self.process = None
        if proc is None or proc.poll() is not None:
            return
        proc.kill()
        proc.wait()
        log.warning("embedded database killed", extra={"pid": proc.pid})

    def __enter__(self) -> EmbeddedDatabase:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
