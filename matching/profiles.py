"""Stored profile embeddings, the ``profile_vectors`` collection: the only module that touches it.

One document per citizen with profiling on: the vector, the content hash of the profile text
it was embedded from (a stale vector is never used), and the model. A profile vector is
personal data: it is written only when the citizen's CV or job wishes change, and removed when
profiling is turned off or the account is erased. Reading a profile never writes here.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
from bson.binary import Binary
from pymongo import ReplaceOne
from pymongo.asynchronous.database import AsyncDatabase

from store import collections as c


async def stored_vector(db: AsyncDatabase, citizen_id: str, chash: str) -> np.ndarray | None:
    """The citizen's stored vector if it was embedded from the text with hash ``chash``."""
    stored = await db[c.PROFILE_VECTORS].find_one({"_id": citizen_id})
    if stored and stored.get("hash") == chash:
        return np.frombuffer(stored["v"], dtype=np.float32)
    return None


async def stored_vectors(db: AsyncDatabase, citizen_ids: list[str]) -> dict[str, np.ndarray]:
    """Stored profile embeddings (only citizens with profiling on have one)."""
    cursor = db[c.PROFILE_VECTORS].find({"_id": {"$in": citizen_ids}}, {"v": 1})
    return {d["_id"]: np.frombuffer(d["v"], dtype=np.float32) async for d in cursor}


async def stored_hashes(db: AsyncDatabase, citizen_ids: list[str]) -> dict[str, str]:
    """The profile-text hash each stored vector was embedded from."""
    cursor = db[c.PROFILE_VECTORS].find({"_id": {"$in": citizen_ids}}, {"hash": 1})
    return {d["_id"]: d.get("hash") async for d in cursor}


async def save_vector(
    db: AsyncDatabase, citizen_id: str, chash: str, model_id: str, vector: np.ndarray
) -> None:
    await db[c.PROFILE_VECTORS].replace_one(
        {"_id": citizen_id},
        {
            "_id": citizen_id,
            "hash": chash,
            "model": model_id,
            "v": Binary(vector.astype(np.float32).tobytes()),
            "updatedAt": datetime.now(UTC),
        },
        upsert=True,
    )


async def save_vectors(
    db: AsyncDatabase, items: list[tuple[str, str, np.ndarray]], model_id: str
) -> None:
    """Store many (citizen id, text hash, vector) at once."""
    if not items:
        return
    now = datetime.now(UTC)
    ops = [
        ReplaceOne(
            {"_id": cid},
            {"_id": cid, "hash": chash, "model": model_id,
             "v": Binary(vector.astype(np.float32).tobytes()), "updatedAt": now},
            upsert=True,
        )
        for cid, chash, vector in items
    ]  # fmt: skip
    await db[c.PROFILE_VECTORS].bulk_write(ops, ordered=False)


async def delete_vector(db: AsyncDatabase, citizen_id: str, session: Any = None) -> None:
    await db[c.PROFILE_VECTORS].delete_one({"_id": citizen_id}, session=session)
