"""All DataLoaders of one request, built together so every feature finds its loaders in
``info.context.loaders``. One loader per access pattern; each batches into one query."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, fields

from pymongo.asynchronous.database import AsyncDatabase
from strawberry.dataloader import DataLoader

from .jobs import loaders as jobs_loaders
from .meetings import loaders as meetings_loaders
from .taxonomy import loaders as taxonomy_loaders
from .viewer import loaders as viewer_loaders


class SharedLoads(DataLoader):
    """Resolvers loading the same key await one future. graphql-core cancels the other items of
    a list when one item fails, and a cancelled waiter cancels the future it awaits: the other
    waiters then got CancelledError (HTTP 500, issue 16). Each waiter awaits a shield of it."""

    def load(self, key):  # type: ignore[no-untyped-def]
        return asyncio.shield(super().load(key))


@dataclass(frozen=True)
class Loaders:
    company_by_cvr: DataLoader
    citizen_by_id: DataLoader
    employer_by_id: DataLoader
    occupation_by_id: DataLoader
    isco_group_by_code: DataLoader
    isco_children_by_parent: DataLoader
    posting_by_id: DataLoader
    offer_by_id: DataLoader
    meeting_request_by_id: DataLoader
    company_contact_by_cvr: DataLoader

    @classmethod
    def create(cls, db: AsyncDatabase) -> Loaders:
        loaders = cls(
            company_by_cvr=viewer_loaders.company_by_cvr(db),
            citizen_by_id=viewer_loaders.citizen_by_id(db),
            employer_by_id=viewer_loaders.employer_by_id(db),
            occupation_by_id=taxonomy_loaders.occupation_by_id(db),
            isco_group_by_code=taxonomy_loaders.isco_group_by_code(db),
            isco_children_by_parent=taxonomy_loaders.isco_children_by_parent(db),
            posting_by_id=jobs_loaders.posting_by_id(db),
            offer_by_id=meetings_loaders.offer_by_id(db),
            meeting_request_by_id=meetings_loaders.meeting_request_by_id(db),
            company_contact_by_cvr=meetings_loaders.company_contact_by_cvr(db),
        )
        for f in fields(loaders):
            getattr(loaders, f.name).__class__ = SharedLoads
        return loaders
