"""The agent itself: a broad basic agent made from the CV, kept in step with the CV until the
citizen edits it, and its embedding."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import UTC, datetime

import numpy as np
from bson import Binary
from pymongo.asynchronous.database import AsyncDatabase

from matching.embeddings import content_hash
from matching.engine import MatchingEngine

from ..directory import Directory
from . import repository
from .repository import AgentDoc

CADENCES = ("INSTANT", "DAILY", "WEEKLY")


def agent_text(labels: list[str], keywords: list[str]) -> str:
    parts = []
    if labels:
        parts.append("Søger job som " + ", ".join(labels))
    if keywords:
        parts.append("Nøgleord: " + ", ".join(keywords))
    return ". ".join(parts)


def _labels(engine: MatchingEngine, occupation_ids: list[str]) -> list[str]:
    return [engine.occupation_labels[o][0] for o in occupation_ids if o in engine.occupation_labels]


async def agent_vector(engine: MatchingEngine, occupation_ids: list[str], keywords: list[str]):
    text = agent_text(_labels(engine, occupation_ids), keywords)
    if not text:
        return None, None
    # Without keywords the text is only public occupation names: the shared cache may keep it.
    encode = engine.embedder.encode if not keywords else engine.embedder.encode_uncached
    vector = (await asyncio.to_thread(encode, [text]))[0]
    return Binary(vector.astype(np.float32).tobytes()), content_hash(engine.embedder.model_id, text)


def basic_settings(citizen: Mapping, cv: Mapping | None) -> dict:
    """A broad agent from the CV: the occupations wanted and held, the citizen's radius and
    hours, a daily digest."""
    prefs = citizen.get("preferences", {})
    occupations = list(prefs.get("occupationIds", []))
    # With profiling off only the citizen's own wishes shape the agent, nothing from the CV.
    held = (
        (cv or {}).get("workHistory", [])
        if citizen.get("consents", {}).get("profiling", True)
        else []
    )
    for job in held:
        if job.get("occupationId") and job["occupationId"] not in occupations:
            occupations.append(job["occupationId"])
    return {
        "occupationIds": occupations[:20],
        "radiusKm": int(prefs.get("radiusKm", 30)),
        "hours": prefs.get("hours", "ANY"),
        "keywords": [],
        "cadence": "DAILY",
        "active": True,
    }


async def get_agent(db: AsyncDatabase, citizen_id: str) -> AgentDoc | None:
    return await repository.get_agent(db, citizen_id)


async def ensure_agent(
    db: AsyncDatabase, engine: MatchingEngine, citizen: Mapping, cv: Mapping | None
) -> AgentDoc:
    """The citizen's agent; a basic one is made from the CV the first time."""
    existing = await repository.get_agent(db, citizen["_id"])
    if existing is not None:
        return existing
    return await save_agent(db, engine, citizen, basic_settings(citizen, cv), auto=True)


async def sync_basic_agent(
    db: AsyncDatabase, engine: MatchingEngine, citizen: Mapping, cv: Mapping | None
) -> AgentDoc | None:
    """After a CV or wishes change: an agent the citizen never edited follows the CV; an
    edited one is left as the citizen set it."""
    existing = await repository.get_agent(db, citizen["_id"])
    if existing is not None and not existing.get("auto"):
        return existing
    fields = basic_settings(citizen, cv)
    if existing is not None and all(existing.get(k) == v for k, v in fields.items()):
        return existing
    return await save_agent(db, engine, citizen, fields, auto=True)


async def save_agent(
    db: AsyncDatabase, engine: MatchingEngine, citizen: Mapping, fields: dict, auto: bool = False
) -> AgentDoc:
    now = datetime.now(UTC)
    lon, lat = citizen["location"]["coordinates"]
    vector, vhash = await agent_vector(engine, fields["occupationIds"], fields["keywords"])
    doc = {
        **fields,
        "lat": lat,
        "lon": lon,
        "vector": vector,
        "vectorHash": vhash,
        "auto": auto,
        "updatedAt": now,
    }
    return await repository.upsert_agent(db, citizen["_id"], doc, now)


async def ensure_agents_for_all(
    db: AsyncDatabase, engine: MatchingEngine, directory: Directory
) -> int:
    """Give every citizen with a profile and no agent the basic one (start-up, demo data),
    embedding all their texts in one batch."""
    have = await repository.citizens_with_agent(db)
    citizens = await directory.citizens_with_cv(db, skip=have)
    if not citizens:
        return 0
    settings = [basic_settings(citizen, cv) for citizen, cv in citizens]
    texts = [agent_text(_labels(engine, s["occupationIds"]), []) for s in settings]
    vectors = await asyncio.to_thread(engine.embedder.encode, [t or "-" for t in texts])
    now = datetime.now(UTC)
    docs = []
    for (citizen, _), fields, text, vector in zip(citizens, settings, texts, vectors, strict=True):
        lon, lat = citizen["location"]["coordinates"]
        docs.append({
            "_id": citizen["_id"], **fields, "lat": lat, "lon": lon, "auto": True,
            "updatedAt": now,
            "vector": Binary(vector.astype(np.float32).tobytes()) if text else None,
            "vectorHash": content_hash(engine.embedder.model_id, text) if text else None,
        })  # fmt: skip
    return await repository.insert_missing_agents(db, docs, now)
