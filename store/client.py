"""The MongoDB client's lifecycle. One ``AsyncMongoClient`` per process, opened at start-up and
closed at shutdown; everything else receives the ``AsyncDatabase`` it needs."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from pymongo import AsyncMongoClient, WriteConcern
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import ConnectionFailure, OperationFailure
from pymongo.monitoring import CommandListener

from core.errors import Outage, UnavailableReason

if TYPE_CHECKING:
    from core.settings import Settings

T = TypeVar("T")

# An acknowledged write is on disk on a majority of the replica set (on the embedded server:
# its one node, whose log is fsynced at each commit). Transactions inherit it from the client.
DURABLE = WriteConcern(w="majority", j=True)


class Store:
    def __init__(
        self,
        uri: str,
        database_name: str,
        *,
        server_selection_timeout_ms: int = 5000,
        operation_timeout_ms: int | None = None,
        durable: bool = True,
        event_listeners: Sequence[CommandListener] = (),
    ) -> None:
        """``operation_timeout_ms``: PyMongo's client-side operation timeout (``timeoutMS``) for
        every call; None for tools (seeding, benchmarks) whose bulk writes may take longer.
        ``durable``: journaled, majority-acknowledged writes (False only to measure the cost)."""
        options: dict[str, Any] = {}
        if operation_timeout_ms is not None:
            options["timeoutMS"] = operation_timeout_ms
        if durable:
            options["w"] = DURABLE.document["w"]
            options["journal"] = True
        self.client: AsyncMongoClient = AsyncMongoClient(
            uri,
            serverSelectionTimeoutMS=server_selection_timeout_ms,
            tz_aware=True,
            uuidRepresentation="standard",
            appname="jobunivers",
            event_listeners=list(event_listeners),
            **options,
        )
        self.db: AsyncDatabase = self.client[database_name]

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        serving: bool = False,
        event_listeners: Sequence[CommandListener] = (),
    ) -> Store:
        """The store a process of the app opens. ``serving``: a process answering users (API,
        worker), whose database calls carry the operation timeout."""
        return cls(
            settings.effective_mongodb_uri,
            settings.database_name,
            server_selection_timeout_ms=settings.server_selection_timeout_ms,
            operation_timeout_ms=settings.database_operation_timeout_ms if serving else None,
            durable=settings.durable_writes,
            event_listeners=event_listeners,
        )

    async def ping(self, timeout_s: float) -> bool:
        """True when the database answers within ``timeout_s``."""
        try:
            await asyncio.wait_for(self.db.command("ping"), timeout=timeout_s)
        except Exception:  # any failure means "not ready"; callers only need the boolean
            return False
        return True

    async def close(self) -> None:
        await self.client.close()


# How long a transaction is retried while it conflicts with others (many citizens taking the
# last seat at once); within a request's deadline.
CONFLICT_RETRY_S = 4.0
CONFLICT_RETRY_AFTER_S = 1  # the retry hint when conflicts outlasted CONFLICT_RETRY_S


def _conflicts(exc: BaseException) -> bool:
    """A write conflict with another transaction: retry the whole transaction. A network
    error carries the same label, but means an outage: answered at once, not retried."""
    return (
        isinstance(exc, OperationFailure)
        and not isinstance(exc, ConnectionFailure)
        and exc.has_error_label("TransientTransactionError")
    )


async def in_transaction(db: AsyncDatabase, work: Callable[[Any], Awaitable[T]]) -> T:
    """Run ``work(session)`` as one transaction: all of its writes land, or none do.

    Conflicts with other transactions are retried (with jittered back-off, for up to
    CONFLICT_RETRY_S, then UNAVAILABLE with reason TIMEOUT); an unreachable or stalled database
    is not: the error goes up at once,
    so the request answers UNAVAILABLE within its deadline instead of retrying for the two
    minutes PyMongo's ``with_transaction`` would. The commit is journaled with the client's
    write concern."""
    started = time.monotonic()
    attempt = 0
    async with db.client.start_session() as session:
        while True:
            attempt += 1
            await session.start_transaction()
            try:
                result = await work(session)
                await session.commit_transaction()
                return result
            except BaseException as exc:
                if session.in_transaction and not isinstance(exc, ConnectionFailure):
                    await session.abort_transaction()  # PyMongo ignores errors of the abort
                if not _conflicts(exc):
                    raise
                if time.monotonic() - started > CONFLICT_RETRY_S:
                    # Contention that outlasted the retries (many writers of one document
                    # under overload): the app may try again in a moment; no bug, nothing
                    # half-written (the transaction was aborted).
                    raise Outage(UnavailableReason.TIMEOUT, CONFLICT_RETRY_AFTER_S) from exc
            await asyncio.sleep(random.random() * min(0.005 * 1.5**attempt, 0.25))


class StandaloneDatabaseError(RuntimeError):
    """Production was pointed at a MongoDB that is not a replica set (or a sharded cluster)."""


async def require_replica_set(client: AsyncMongoClient) -> None:
    """Refuse a standalone server: there ``w: "majority"`` is one copy, no change streams, no
    failover. A replica-set member answers ``hello`` with ``setName``, a mongos with
    ``msg: "isdbgrid"``."""
    hello = await client.admin.command("hello")
    if hello.get("setName") or hello.get("msg") == "isdbgrid":
        return
    raise StandaloneDatabaseError(
        "production needs a MongoDB replica set (or a sharded cluster): the server at "
        "MONGODB_URI answers as a standalone; start mongod with --replSet and rs.initiate(), "
        "and add ?replicaSet=<name> to MONGODB_URI"
    )
