"""Seeding a database: the taxonomy, then the generated demo data, then the fixed demo set."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from pymongo.asynchronous.database import AsyncDatabase
from rich.progress import Progress

from store import collections as c

from . import demo
from .evaluation import (
    CitizenFacts,
    PostingFacts,
    citizen_facts,
    posting_facts,
    relevance_labels,
    write_eval,
)
from .generator import CompanyRef, Generator, SeedSpec, consent_events, title_case
from .taxonomy import Taxonomy
from .writer import write_all


@dataclass
class SeedReport:
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    eval_citizens: int = 0


async def import_taxonomy(db: AsyncDatabase, taxonomy: Taxonomy) -> dict[str, int]:
    """Full sync: every concept upserted by id, concepts no longer in the files removed."""
    counts = {}
    for name, docs in (
        (c.OCCUPATIONS, taxonomy.occupations),
        (c.ISCO_GROUPS, taxonomy.isco_groups),
    ):
        await write_all(db[name], docs)
        # Stale ids are found here rather than with $nin, which large id lists make slow.
        wanted = {d["_id"] for d in docs}
        stale = [d["_id"] async for d in db[name].find({}, {"_id": 1}) if d["_id"] not in wanted]
        if stale:
            await db[name].delete_many({"_id": {"$in": stale}})
        counts[name] = len(docs)
    return counts


def _tracked(items: Iterable[dict], sink: list, convert) -> Iterator[dict]:
    for item in items:
        sink.append(convert(item))
        yield item


async def seed_database(
    db: AsyncDatabase,
    taxonomy: Taxonomy,
    spec: SeedSpec,
    *,
    eval_out: Path | None = None,
    eval_citizens: int = 1000,
    progress: Progress | None = None,
) -> SeedReport:
    started = time.perf_counter()
    report = SeedReport()
    report.counts.update(await import_taxonomy(db, taxonomy))
    gen = Generator(taxonomy, spec)
    posting_summaries: list[PostingFacts] = []
    citizen_summaries: list[CitizenFacts] = []
    isco_of = {o["_id"]: o["iscoCode"] for o in taxonomy.occupations}
    citizens = list(gen.citizen_docs()) if spec.citizens else []

    plan = [
        (c.COMPANIES, spec.companies, gen.companies_docs()),
        (
            c.POSTINGS,
            spec.postings,
            _tracked(gen.postings_docs(), posting_summaries, posting_facts)
            if eval_out
            else gen.postings_docs(),
        ),
        (c.OFFERS, spec.offers, gen.offers_docs()),
        (
            c.CITIZENS,
            spec.citizens,
            _tracked(
                (p for p, _ in citizens), citizen_summaries, lambda d: citizen_facts(d, isco_of)
            ),
        ),
        (c.CVS, spec.citizens, (cv for _, cv in citizens)),
        (
            c.CONSENT_EVENTS,
            spec.citizens * 6,
            (e for p, _ in citizens for e in consent_events(p)),
        ),
    ]
    ctx = progress if progress is not None else nullcontext()
    with ctx:
        for collection, total, docs in plan:
            task = progress.add_task(collection, total=total) if progress else None

            def advance(n: int, task=task) -> None:
                if progress is not None and task is not None:
                    progress.advance(task, n)

            report.counts[collection] = await write_all(db[collection], docs, on_batch=advance)
    report.counts["demo"] = await write_demo_set(db, gen)
    if eval_out is not None:
        labels = relevance_labels(citizen_summaries, posting_summaries, spec.as_of, eval_citizens)
        write_eval(eval_out, spec.seed, spec.as_of, labels)
        report.eval_citizens = len(labels)
    report.seconds = time.perf_counter() - started
    return report


async def write_demo_set(db: AsyncDatabase, gen: Generator) -> int:
    """The fixed demo accounts, their offers, and candidates who asked for meetings."""
    import random

    from .vocab import INDUSTRIES, TOWNS

    as_of = gen.spec.as_of
    await demo.seed_demo_accounts(db, as_of)
    rng = random.Random("demo-candidates")
    aarhus_n = next(t for t in TOWNS if t.name == "Aarhus N")
    nearby = [t for t in TOWNS if t.region == "Region Midtjylland"][:8]
    candidates = [
        gen.citizen(
            rng,
            cid,
            rng.choice(("93", "83", "43")),
            nearby[i % len(nearby)],
            9000 + i,
            graduate=False,
        )
        for i, cid in enumerate(demo.DEMO_CANDIDATE_IDS)
    ]
    demo_company = CompanyRef(
        demo.DEMO_COMPANY_CVR,
        demo.DEMO_COMPANY["name"],
        INDUSTRIES[0],
        aarhus_n,
        demo.DEMO_COMPANY["street"],
        aarhus_n.lat,
        aarhus_n.lon,
    )
    occupations = gen.taxonomy.by_id()
    postings = []
    for k, occ_id in enumerate(demo.DEMO_POSTING_OCCUPATIONS):
        occ = occupations.get(occ_id)
        if occ is None:  # a taxonomy without these concepts: skip rather than invent
            continue
        posted = as_of - timedelta(days=2 + 3 * k)
        postings.append(
            gen.posting(
                rng,
                f"demo-opslag-{k + 1}",
                demo_company,
                occ,
                title_case(occ["labelDa"]),
                aarhus_n,
                aarhus_n.lat,
                aarhus_n.lon,
                posted,
                posted + timedelta(days=28),
                37,
                "PERMANENT",
            )
        )
    written = 0
    for collection, docs in (
        (c.POSTINGS, postings),
        (c.CITIZENS, [p for p, _ in candidates]),
        (c.CVS, [cv for _, cv in candidates]),
        (c.CONSENT_EVENTS, [e for p, _ in candidates for e in consent_events(p)]),
        (c.OFFERS, demo.demo_offers(as_of)),
        (c.MEETING_REQUESTS, demo.demo_meeting_requests(as_of, list(demo.DEMO_CANDIDATE_IDS))),
        (c.JOBLOG, demo.demo_joblog(as_of)),
    ):
        written += await write_all(db[collection], docs)
    return written + 4
