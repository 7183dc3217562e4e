"""What readiness asks of the database and the disk under it: can it take a durable write now,
and is there room left. Owns the readiness-probe collection: one tiny document per process,
overwritten by every probe, so probing adds no data."""

from __future__ import annotations

import os
import shutil
import socket
from datetime import UTC, datetime
from pathlib import Path

import pymongo
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import OperationFailure, PyMongoError

from . import collections as c
from .client import DURABLE
from .indexes import IndexSpec

# Documents of processes gone for a day are dropped by the server (each probe refreshes ``at``).
INDEXES = [
    IndexSpec(c.READINESS_PROBES, (("at", 1),), "readiness_probes_expire",
              options={"expireAfterSeconds": 24 * 3600}),
]  # fmt: skip


def probe_id() -> str:
    """This process: host and pid (read at each probe, so a forked process has its own)."""
    return f"{socket.gethostname()}:{os.getpid()}"


def describe_failure(error: BaseException) -> str:
    """A short, data-free description of a failed database call, for a readiness reason."""
    if isinstance(error, OperationFailure):
        name = (error.details or {}).get("codeName") or ""
        return f"{type(error).__name__} (code {error.code}{' ' + name if name else ''})"
    if isinstance(error, PyMongoError) and error.timeout:
        return f"{type(error).__name__} (timed out)"
    return type(error).__name__


async def probe_write(db: AsyncDatabase, timeout_s: float) -> str | None:
    """None when the database takes one durable (journaled, majority) write within
    ``timeout_s``, else why not. A database that answers ping but whose storage engine has
    failed (a full disk) fails here."""
    probes = db[c.READINESS_PROBES].with_options(write_concern=DURABLE)
    try:
        with pymongo.timeout(timeout_s):
            await probes.update_one(
                {"_id": probe_id()}, {"$set": {"at": datetime.now(UTC)}}, upsert=True
            )
    except PyMongoError as e:
        return f"write failed: {describe_failure(e)}"
    return None


def free_disk_mb(path: Path) -> float:
    """Free space (MB) on the file system holding ``path`` (or its nearest existing parent)."""
    probe = Path(path)
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    return shutil.disk_usage(probe).free / (1024 * 1024)
