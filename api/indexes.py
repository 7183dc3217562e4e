"""Every index the app declares, collected from the repositories that own them."""

from __future__ import annotations

from notifications import outbox
from store.indexes import IndexSpec

from .viewer import repository as viewer_repository


def all_index_specs() -> list[IndexSpec]:
    return [*viewer_repository.INDEXES, *outbox.INDEXES]
