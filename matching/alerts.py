"""Job agents in reverse: new postings as queries against an index of agent vectors.

Each agent has a vector (its wanted occupations and keywords, embedded), a home point and
radius, hours, wanted occupations and keywords. A batch of new postings is scored against all
agents with one matrix product per chunk; the agents each posting reaches are those similar
enough or wanting its occupation (or ISCO unit), and then passing the agent's own filters
(distance, hours, keywords). A match is *strong* (worth an instant alert) when the occupation
is one the agent names or the similarity is high.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .geo import haversine_km_many
from .records import PostingRecord

MIN_SIMILARITY = 0.50  # below this, only an occupation match brings a posting to an agent
STRONG_SIMILARITY = 0.62
CHUNK = 256


@dataclass(frozen=True)
class AgentRecord:
    id: str  # the citizen's id
    vector: np.ndarray | None
    lat: float
    lon: float
    radius_km: float
    hours: str  # FULL_TIME, PART_TIME or ANY
    occupations: dict[str, str]  # occupation id -> ISCO unit
    keywords: tuple[str, ...] = ()


@dataclass(frozen=True)
class AgentMatch:
    agent_id: str
    posting_id: str
    score: float
    similarity: float
    relation: float
    strong: bool


class AgentIndex:
    def __init__(self, agents: Sequence[AgentRecord], dimension: int = 384) -> None:
        self.ids = [a.id for a in agents]
        self.agents = list(agents)
        self.vectors = np.zeros((len(agents), dimension), dtype=np.float32)
        self.has_vector = np.zeros(len(agents), dtype=bool)
        for i, a in enumerate(agents):
            if a.vector is not None:
                self.vectors[i] = a.vector
                self.has_vector[i] = True
        self.lat = np.array([a.lat for a in agents], dtype=np.float64)
        self.lon = np.array([a.lon for a in agents], dtype=np.float64)
        self.radius = np.array([a.radius_km for a in agents], dtype=np.float64)
        self.hours = np.array([a.hours for a in agents])
        self.by_occupation: dict[str, list[int]] = {}
        self.by_unit: dict[str, list[int]] = {}
        for i, a in enumerate(agents):
            for oid, unit in a.occupations.items():
                self.by_occupation.setdefault(oid, []).append(i)
                if unit:
                    self.by_unit.setdefault(unit, []).append(i)

    def __len__(self) -> int:
        return len(self.ids)

    def match(
        self,
        postings: Sequence[PostingRecord],
        vectors: np.ndarray,
        texts: Sequence[str] | None = None,
    ) -> list[AgentMatch]:
        if not len(self.ids) or not postings:
            return []
        out: list[AgentMatch] = []
        for start in range(0, len(postings), CHUNK):
            chunk = postings[start : start + CHUNK]
            sims = vectors[start : start + CHUNK] @ self.vectors.T  # (chunk, agents)
            sims[:, ~self.has_vector] = 0.0
            for j, p in enumerate(chunk):
                row = sims[j]
                exact = self.by_occupation.get(p.occupation_id, [])
                same_unit = self.by_unit.get(p.isco, [])
                cand = np.union1d(np.flatnonzero(row >= MIN_SIMILARITY), exact + same_unit)
                cand = cand.astype(np.int64)
                if not cand.size:
                    continue
                km = haversine_km_many(p.lat, p.lon, self.lat[cand], self.lon[cand])
                keep = km <= self.radius[cand]
                hours = self.hours[cand]
                keep &= (hours == "ANY") | (hours == p.hours)
                cand = cand[keep]
                if not cand.size:
                    continue
                exact_set, unit_set = set(exact), set(same_unit)
                text = (texts[start + j] if texts else p.title).lower()
                for i in cand.tolist():
                    agent = self.agents[i]
                    if agent.keywords and not any(k in text for k in agent.keywords):
                        continue
                    relation = 1.0 if i in exact_set else 0.6 if i in unit_set else 0.0
                    sim = float(row[i])
                    score = 0.6 * max(sim, 0.0) + 0.4 * relation
                    out.append(
                        AgentMatch(
                            agent_id=self.ids[i],
                            posting_id=p.id,
                            score=round(score, 4),
                            similarity=round(sim, 4),
                            relation=relation,
                            strong=relation == 1.0 or sim >= STRONG_SIMILARITY,
                        )
                    )
        return out
