"""The push worker: claims outbox messages under a lease and hands them to the transport."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import uuid
from datetime import timedelta

from pymongo.asynchronous.database import AsyncDatabase

from . import outbox
from .transports import PushTransport

log = logging.getLogger(__name__)


def new_worker_id() -> str:
    return f"{socket.gethostname()}-{uuid.uuid4().hex[:8]}"


async def drain_once(
    db: AsyncDatabase, transport: PushTransport, worker_id: str, lease: timedelta
) -> int:
    """Send every due message; returns how many were delivered."""
    sent = 0
    while (message := await outbox.claim_one(db, worker_id, lease)) is not None:
        await transport.send(message)
        if await outbox.mark_delivered(db, message["_id"], worker_id):
            sent += 1
    return sent


async def run_worker(
    db: AsyncDatabase,
    transport: PushTransport,
    stop: asyncio.Event,
    *,
    poll_interval_s: float = 1.0,
    lease: timedelta = timedelta(seconds=60),
) -> None:
    worker_id = new_worker_id()
    log.info("push worker started", extra={"worker_id": worker_id})
    while not stop.is_set():
        try:
            await drain_once(db, transport, worker_id, lease)
        except Exception:
            log.exception("push worker iteration failed; retrying")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=poll_interval_s)
    log.info("push worker stopped", extra={"worker_id": worker_id})
