"""Citizen profiles and CVs. Queries arrive with the citizen feature; the indexes the seeded
collections need are declared here."""

from __future__ import annotations

from store import collections as c
from store.indexes import IndexSpec

INDEXES: list[IndexSpec] = [
    IndexSpec(c.CVS, (("citizenId", 1), ("primary", -1)), "cvs_citizen_primary"),
]
