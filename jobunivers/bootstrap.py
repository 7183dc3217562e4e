"""Getting a database ready: indexes, then (when asked) the taxonomy and demo data."""

from __future__ import annotations

from contextlib import nullcontext
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from api.directory import DIRECTORY
from api.indexes import prepare_collections
from api.jobs.repository import open_postings_for_matching
from api.taxonomy.repository import occupations_for_matching
from core.settings import Settings
from matching.engine import build_engine
from notifications.jobagent import ensure_agents_for_all
from seed.demo import database_is_empty
from seed.generator import SeedSpec
from seed.run import SeedReport, seed_database
from seed.taxonomy import load_taxonomy
from store.client import Store


def progress_bar(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description:<18}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


async def prepare_database(
    settings: Settings,
    *,
    spec: SeedSpec | None = None,
    seed_if_empty: bool = False,
    force_seed: bool = False,
    eval_out: Path | None = None,
    eval_citizens: int = 1000,
    console: Console | None = None,
    build_index: bool = True,
) -> SeedReport | None:
    """Ensure indexes; seed if forced or (with seed_if_empty) if the database is empty, then
    embed what was seeded and save the search index (``build_index``), so the API starts with
    a warm embedding cache. Returns the seed report, or None when nothing was seeded."""
    store = Store(settings.effective_mongodb_uri, settings.database_name)
    try:
        await prepare_collections(store.db)
        if not (force_seed or (seed_if_empty and await database_is_empty(store.db))):
            return None
        taxonomy = load_taxonomy(settings.taxonomy_dir)
        report = await seed_database(
            store.db,
            taxonomy,
            spec or SeedSpec(),
            eval_out=eval_out,
            eval_citizens=eval_citizens,
            progress=progress_bar(console) if console else None,
        )
        if build_index:
            engine = build_engine(settings)
            status = (
                console.status("Embedding occupations and postings for matching ...")
                if console
                else nullcontext()
            )
            with status:
                loaded = await engine.load(
                    occupations=await occupations_for_matching(store.db),
                    postings=await open_postings_for_matching(store.db, datetime.now(UTC)),
                )
            report.counts["indexed_postings"] = loaded.postings
            report.counts["job_agents"] = await ensure_agents_for_all(store.db, engine, DIRECTORY)
            # Seeded citizens never saved a CV through the app, which is when a profile is
            # embedded; embed theirs now, so reading their suggestions never has to.
            seeded = await DIRECTORY.citizens_with_cv(store.db, skip=set())
            report.counts["profile_vectors"] = await engine.store_profile_vectors(store.db, seeded)
            report.seconds += loaded.seconds
        return report
    finally:
        await store.close()
