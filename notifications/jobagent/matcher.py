"""Matching new postings against every active agent: this process's agent index, rebuilt when
an agent changes."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import datetime

import numpy as np
from pymongo.asynchronous.database import AsyncDatabase

from matching.alerts import AgentIndex, AgentMatch, AgentRecord
from matching.engine import MatchingEngine
from matching.records import PostingRecord

from . import repository


def record_of(doc: Mapping, occupation_isco: Mapping[str, str]) -> AgentRecord:
    vector = np.frombuffer(doc["vector"], dtype=np.float32) if doc.get("vector") else None
    return AgentRecord(
        id=doc["_id"],
        vector=vector,
        lat=doc["lat"],
        lon=doc["lon"],
        radius_km=float(doc.get("radiusKm", 30)),
        hours=doc.get("hours", "ANY"),
        occupations={o: occupation_isco.get(o, "") for o in doc.get("occupationIds", [])},
        keywords=tuple(k.lower() for k in doc.get("keywords", [])),
    )


class AgentMatcher:
    """Keeps the agent index of this process current and matches batches of new postings."""

    def __init__(self, engine: MatchingEngine) -> None:
        self.engine = engine
        self.index: AgentIndex | None = None
        self.built_at: datetime | None = None

    async def refresh(self, db: AsyncDatabase) -> None:
        stamp = await repository.newest_agent_change(db)
        if self.index is not None and stamp == self.built_at:
            return
        docs = await repository.active_agents(db)
        isco = self.engine.occupation_isco
        # CPU work (a record per agent, the vector matrix): off the event loop that serves
        # requests; the index is read-only once built, so a thread may build and use it.
        self.index = await asyncio.to_thread(lambda: AgentIndex([record_of(d, isco) for d in docs]))
        self.built_at = stamp

    async def match(self, db: AsyncDatabase, postings: list[dict]) -> list[AgentMatch]:
        await self.refresh(db)
        assert self.index is not None
        if not postings or not len(self.index):
            return []
        texts = [self.engine.posting_text(p) for p in postings]
        vectors = await asyncio.to_thread(self.engine.embedder.encode, texts)
        records = [PostingRecord.from_doc(p) for p in postings]
        return await asyncio.to_thread(
            self.index.match, records, vectors, [t.lower() for t in texts]
        )
