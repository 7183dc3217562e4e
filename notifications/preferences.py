"""Notification preferences: categories on/off, quiet hours (Europe/Copenhagen, default
21:00-08:00; meeting-critical messages go through), and a daily push cap.

A citizen's categories live with their consents (every change is in the consent history);
quiet hours and the cap, and an employer's categories, live in ``notification_prefs``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from pymongo.asynchronous.database import AsyncDatabase

from store import collections as c
from store.indexes import IndexSpec

from .directory import Directory

COPENHAGEN = ZoneInfo("Europe/Copenhagen")
CATEGORIES = ("JOB_ALERTS", "MEETINGS", "REMINDERS", "NEWS")
DEFAULT_QUIET = (time(21, 0), time(8, 0))
DEFAULT_DAILY_CAP = 10


@dataclass
class Preferences:
    categories: dict[str, bool] = field(default_factory=lambda: dict.fromkeys(CATEGORIES, True))
    quiet_start: time | None = DEFAULT_QUIET[0]  # None: no quiet hours
    quiet_end: time | None = DEFAULT_QUIET[1]
    daily_cap: int = DEFAULT_DAILY_CAP

    def allows(self, category: str) -> bool:
        return self.categories.get(category, True)

    def quiet_until(self, now: datetime) -> datetime | None:
        """The end of the quiet period ``now`` falls in, or None outside quiet hours."""
        if self.quiet_start is None or self.quiet_end is None:
            return None
        local = now.astimezone(COPENHAGEN)
        t = local.time()
        start, end = self.quiet_start, self.quiet_end
        inside = (start <= t or t < end) if start > end else (start <= t < end)
        if not inside:
            return None
        day = local.date() if t < end else local.date() + timedelta(days=1)
        return datetime.combine(day, end, COPENHAGEN)


def _parse(value: str | None, default: time | None) -> time | None:
    if not value:
        return default
    hh, mm = value.split(":")
    return time(int(hh), int(mm))


def from_docs(pref_doc: dict | None, push_consents: Mapping[str, bool] | None) -> Preferences:
    prefs = Preferences()
    if pref_doc:
        prefs.categories.update(pref_doc.get("categories", {}))
        if "quietStart" in pref_doc:
            prefs.quiet_start = _parse(pref_doc.get("quietStart"), None)
            prefs.quiet_end = _parse(pref_doc.get("quietEnd"), None)
        prefs.daily_cap = int(pref_doc.get("dailyCap", DEFAULT_DAILY_CAP))
    # A citizen's push categories are consents, held with their privacy settings; they win.
    prefs.categories.update(push_consents or {})
    return prefs


async def for_users(
    db: AsyncDatabase, directory: Directory, user_ids: Sequence[str]
) -> dict[str, Preferences]:
    ids = list(user_ids)
    # Both reads at once (the database works on them side by side).
    pref_docs, consents = await asyncio.gather(
        db[c.NOTIFICATION_PREFS].find({"_id": {"$in": ids}}, batch_size=len(ids) + 1).to_list(),
        directory.push_consents(db, ids),
    )
    by_user = {d["_id"]: d for d in pref_docs}
    return {u: from_docs(by_user.get(u), consents.get(u)) for u in ids}


async def get(db: AsyncDatabase, directory: Directory, user_id: str) -> Preferences:
    return (await for_users(db, directory, [user_id]))[user_id]


async def save(db: AsyncDatabase, user_id: str, fields: dict) -> None:
    await db[c.NOTIFICATION_PREFS].update_one({"_id": user_id}, {"$set": fields}, upsert=True)


# --- the daily cap --------------------------------------------------------------------------
def local_day(now: datetime) -> str:
    return now.astimezone(COPENHAGEN).date().isoformat()


async def pushed_today(db: AsyncDatabase, user_ids: Sequence[str], now: datetime) -> dict[str, int]:
    day = local_day(now)
    ids = [f"{u}:{day}" for u in user_ids]
    cursor = db[c.PUSH_COUNTS].find({"_id": {"$in": ids}}, batch_size=len(ids) + 1)
    return {d["userId"]: d["n"] async for d in cursor}


async def count_pushes(
    db: AsyncDatabase, counts: dict[str, int], now: datetime, new: Set[str] = frozenset()
) -> None:
    """Add ``counts`` to today's push counts. ``new``: users known to have no count today
    (``pushed_today`` found none): theirs are inserted, which on the embedded server costs a
    small part of an upsert; one another worker inserted meanwhile is then added with $inc."""
    from pymongo import InsertOne, UpdateOne
    from pymongo.errors import BulkWriteError

    day = local_day(now)

    def inc(u: str, n: int) -> UpdateOne:
        return UpdateOne({"_id": f"{u}:{day}"},
                         {"$inc": {"n": n}, "$setOnInsert": {"userId": u, "day": day}},
                         upsert=True)  # fmt: skip

    fresh = {u: n for u, n in counts.items() if n and u in new}
    ops = [inc(u, n) for u, n in counts.items() if n and u not in new]
    if fresh:
        inserts = [InsertOne({"_id": f"{u}:{day}", "userId": u, "day": day, "n": n})
                   for u, n in fresh.items()]  # fmt: skip
        try:
            await db[c.PUSH_COUNTS].bulk_write(inserts, ordered=False)
        except BulkWriteError as e:
            errors = e.details.get("writeErrors", [])
            if any(err.get("code") != 11000 for err in errors):
                raise
            users = list(fresh)
            ops += [inc(users[err["index"]], fresh[users[err["index"]]]) for err in errors]
    if ops:
        await db[c.PUSH_COUNTS].bulk_write(ops, ordered=False)


# NOTIFICATION_PREFS is keyed by user id; PUSH_COUNTS by user and day, plus the owner for
# erasure and Mine data.
INDEXES: list[IndexSpec] = [IndexSpec(c.PUSH_COUNTS, (("userId", 1),), "push_counts_user")]
