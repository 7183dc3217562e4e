"""One-off data fixes (a field added to documents written before it existed): each runs until
it has completed once, recorded in ``migrations``, so later start-ups do not scan for it again.
Steps must be idempotent: two instances starting together may both run one."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from . import collections as c


async def run_once(db, name: str, step: Callable[[object], Awaitable[object]]) -> bool:
    """Run ``step(db)`` unless ``name`` has completed before; True when it ran."""
    if await db[c.MIGRATIONS].find_one({"_id": name}) is not None:
        return False
    await step(db)
    await db[c.MIGRATIONS].update_one(
        {"_id": name}, {"$set": {"doneAt": datetime.now(UTC)}}, upsert=True
    )
    return True
