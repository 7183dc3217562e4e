"""Erased accounts, as authentication sees them: a token of an account whose citizen erased it
answers UNAUTHENTICATED (reason ACCOUNT_DELETED) in every mode, local dev tokens included.

Each erasure leaves a tombstone in the database (``api.privacy.accounts``): a one-way digest of
the account id. Authentication checks the digest against this process's set of them, so the
check costs no database read. The set learns an erasure at once in the process that made it,
and from the database in every other process: housekeeping loads the whole set when the API
starts and then reads what is new on every pass (``api.housekeeping``). Until the first load
has finished, a request waits for it (at most ``LOAD_WAIT_S``, then UNAVAILABLE), so a fresh
process never lets an erased account in. Without housekeeping (tests that run it themselves)
the set holds this process's erasures only.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Iterable
from datetime import datetime

from core.errors import Unauthenticated, Unavailable
from core.settings import Settings

LOAD_WAIT_S = 10.0
_SALT = b"jobunivers:erased-account:"


def account_digest(account_id: str) -> str:
    """The tombstone's id: SHA-256 of the account id (hex); it cannot be turned back."""
    return hashlib.sha256(_SALT + account_id.encode()).hexdigest()


def account_deleted() -> Unauthenticated:
    return Unauthenticated(
        "Kontoen findes ikke længere.",
        "The account no longer exists.",
        extensions={"reason": "ACCOUNT_DELETED"},
    )


class ErasedAccounts:
    """The digests of erased accounts known to this process."""

    def __init__(self, *, synced: bool = False) -> None:
        self.synced = synced  # housekeeping keeps it in step with the database
        self.loaded = False  # the database's tombstones have been read once
        self.synced_at: datetime | None = None  # when the last read from the database began
        self._digests: set[bytes] = set()

    def __len__(self) -> int:
        return len(self._digests)

    def add(self, account_id: str) -> None:
        """An erasure in this process: known here at once."""
        self._digests.add(bytes.fromhex(account_digest(account_id)))

    def add_digests(self, digests: Iterable[str], synced_at: datetime) -> None:
        """Tombstones read from the database (all of them, or those since the last read)."""
        self._digests.update(bytes.fromhex(d) for d in digests)
        self.synced_at = synced_at
        self.loaded = True

    async def holds(self, account_id: str) -> bool:
        if self.synced and not self.loaded:
            await self._wait_for_load()
        return bytes.fromhex(account_digest(account_id)) in self._digests

    async def _wait_for_load(self) -> None:
        deadline = time.monotonic() + LOAD_WAIT_S
        while not self.loaded:
            if time.monotonic() >= deadline:
                raise Unavailable(
                    "Tjenesten starter. Prøv igen om lidt.",
                    "The service is starting. Please try again shortly.",
                )
            await asyncio.sleep(0.05)


def erased_accounts(settings: Settings) -> ErasedAccounts:
    """A new set for an app's verifier; the app hands it to its housekeeping, which keeps it in
    step with the database when housekeeping runs."""
    return ErasedAccounts(synced=settings.housekeeping_interval_s > 0)
