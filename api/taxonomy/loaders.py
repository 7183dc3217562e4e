"""The taxonomy's DataLoaders, and the occupation documents kept with the taxonomy the engine
loaded (``occupation_docs``): the typeahead answers from the engine's in-memory taxonomy, so
the documents of the occupations it names are read once per process, not once per keystroke."""

from __future__ import annotations

import os
import weakref
from collections.abc import Sequence
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from strawberry.dataloader import DataLoader

from . import repository

# `jobunivers bench load --env JOBUNIVERS_REQUEST_PATH_BASELINE=1`: the request path before
# issue 17 (the typeahead's occupations read from the database on every request), kept only
# to measure beside the new one.
_BASELINE = os.environ.get("JOBUNIVERS_REQUEST_PATH_BASELINE") == "1"


def occupation_by_id(db: AsyncDatabase) -> DataLoader:
    return DataLoader(lambda ids: repository.occupations_by_ids(db, ids))


def isco_group_by_code(db: AsyncDatabase) -> DataLoader:
    return DataLoader(lambda codes: repository.groups_by_codes(db, codes))


def isco_children_by_parent(db: AsyncDatabase) -> DataLoader:
    return DataLoader(lambda codes: repository.children_by_parents(db, codes))


# The taxonomy the engine loaded (its title normaliser, rebuilt on every load) -> the
# occupation documents read for it so far. A reload makes a new normaliser, so the documents
# of the previous taxonomy go with it (weak keys) and are read again for the new one: the
# documents always belong to the taxonomy the typeahead's answers come from. The taxonomy is
# at most a few thousand occupations (2,942 in ESCO), so nothing needs evicting.
_DOCS: weakref.WeakKeyDictionary[Any, dict[str, dict]] = weakref.WeakKeyDictionary()


async def occupation_docs(taxonomy: Any, ids: Sequence[str], loader: DataLoader) -> list[dict]:
    """The documents of ``ids`` (in order; ids the database lacks are left out): from memory,
    the rest through the request's ``occupation_by_id`` loader (one query), then kept."""
    if _BASELINE:
        return [d for d in await loader.load_many(list(ids)) if d]
    known = _DOCS.get(taxonomy)
    if known is None:
        known = _DOCS.setdefault(taxonomy, {})
    missing = [i for i in ids if i not in known]
    if missing:
        for i, doc in zip(missing, await loader.load_many(missing), strict=True):
            if doc:
                known[i] = doc
    return [known[i] for i in ids if i in known]
