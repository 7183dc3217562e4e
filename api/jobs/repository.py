"""Job postings. Queries arrive with the jobs and matching features; the indexes they need are
declared here so the seeded collections are indexed from the start."""

from __future__ import annotations

from store import collections as c
from store.indexes import IndexSpec

INDEXES: list[IndexSpec] = [
    IndexSpec(c.POSTINGS, (("companyCvr", 1), ("postedAt", -1)), "postings_company_posted"),
    IndexSpec(c.POSTINGS, (("occupationId", 1),), "postings_occupation"),
    IndexSpec(c.POSTINGS, (("iscoCode", 1),), "postings_isco_code"),
    IndexSpec(c.POSTINGS, (("status", 1), ("deadline", 1)), "postings_status_deadline"),
]
