"""Field-aware texts to embed. The model reads at most ``max_tokens`` (128 by default), so the
fields that say most about the job come first: title, occupation, requirements, then the
description."""

from __future__ import annotations

from collections.abc import Mapping, Sequence


def posting_text(posting: Mapping, occupation_label: str | None) -> str:
    skills = [r["skill"] for r in posting.get("requirements", [])]
    parts = [posting["title"]]
    if occupation_label and occupation_label.lower() != posting["title"].lower():
        parts.append(occupation_label)
    if skills:
        parts.append("Krav: " + ", ".join(skills))
    parts.append(posting.get("description", ""))
    return ". ".join(p.strip() for p in parts if p)


def profile_text(cv: Mapping, wanted_labels: Sequence[str], history_labels: Sequence[str]) -> str:
    """A citizen's profile: what they want, what they have done, what they know."""
    jobs = [j["title"] for j in cv.get("workHistory", [])]
    parts = []
    if wanted_labels:
        parts.append("Ønsker job som " + ", ".join(wanted_labels))
    if jobs or history_labels:
        parts.append("Erfaring: " + ", ".join(dict.fromkeys([*jobs, *history_labels])))
    if cv.get("skills"):
        parts.append("Kompetencer: " + ", ".join(cv["skills"]))
    if cv.get("courses"):
        parts.append("Kurser: " + ", ".join(cv["courses"]))
    if cv.get("education"):
        parts.append("Uddannelse: " + ", ".join(e["title"] for e in cv["education"]))
    return ". ".join(parts)
