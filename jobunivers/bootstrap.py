"""Getting a database ready: indexes, then demo data when asked."""

from __future__ import annotations

from api.indexes import all_index_specs
from core.settings import Settings
from seed.demo import database_is_empty, seed_demo_accounts
from store.client import Store
from store.indexes import ensure_indexes


async def prepare_database(
    settings: Settings, *, seed_if_empty: bool = False, force_seed: bool = False
) -> bool:
    """Ensure indexes; seed the demo data if forced or (with seed_if_empty) if empty.
    Returns whether demo data was written."""
    store = Store(settings.effective_mongodb_uri, settings.database_name)
    try:
        await ensure_indexes(store.db, all_index_specs())
        if force_seed or (seed_if_empty and await database_is_empty(store.db)):
            await seed_demo_accounts(store.db)
            return True
        return False
    finally:
        await store.close()
