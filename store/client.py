"""The MongoDB client's lifecycle. One ``AsyncMongoClient`` per process, opened at start-up and
closed at shutdown; everything else receives the ``AsyncDatabase`` it needs."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.monitoring import CommandListener

T = TypeVar("T")


class Store:
    def __init__(
        self,
        uri: str,
        database_name: str,
        *,
        server_selection_timeout_ms: int = 5000,
        event_listeners: Sequence[CommandListener] = (),
    ) -> None:
        self.client: AsyncMongoClient = AsyncMongoClient(
            uri,
            serverSelectionTimeoutMS=server_selection_timeout_ms,
            tz_aware=True,
            uuidRepresentation="standard",
            appname="jobunivers",
            event_listeners=list(event_listeners),
        )
        self.db: AsyncDatabase = self.client[database_name]

    async def ping(self, timeout_s: float) -> bool:
        """True when the database answers within ``timeout_s``."""
        try:
            await asyncio.wait_for(self.db.command("ping"), timeout=timeout_s)
        except Exception:  # any failure means "not ready"; callers only need the boolean
            return False
        return True

    async def close(self) -> None:
        await self.client.close()


async def in_transaction(db: AsyncDatabase, work: Callable[[Any], Awaitable[T]]) -> T:
    """Run ``work(session)`` as one transaction: all of its writes land, or none do. Transient
    errors (a write conflict with another transaction) are retried by the driver."""
    async with db.client.start_session() as session:
        return await session.with_transaction(work)
