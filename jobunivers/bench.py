"""`jobunivers bench ...`: commands that print measured figures (never timed unit tests)."""

from __future__ import annotations

import asyncio
import json
import statistics
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console

if TYPE_CHECKING:
    import subprocess

bench = typer.Typer(no_args_is_help=True, help="Benchmarks that print figures.")
console = Console(stderr=True)


@contextmanager
def scratch_database() -> Iterator[str]:
    """A throw-away embedded database for benchmarks that write (never the real one)."""
    import tempfile

    from store.embedded import EmbeddedDatabase, free_port

    with tempfile.TemporaryDirectory() as scratch:
        server = EmbeddedDatabase(Path(scratch) / "db", port=free_port(), cache_size="256M")
        server.start()
        try:
            yield server.uri
        finally:
            server.stop()


def _emit_from_scratch_database(run, as_json: bool) -> None:
    """Run ``run(uri)`` (a coroutine function) against a scratch database and print its result."""
    with scratch_database() as uri:
        result = asyncio.run(run(uri))
    _emit(result, as_json)


def _emit(result: dict, as_json: bool) -> None:
    if as_json:
        print(json.dumps(result, indent=1, ensure_ascii=False))
        return
    for key, value in result.items():
        console.print(f"[bold]{key}[/]")
        for row in value if isinstance(value, list) else [value]:
            console.print(f"  {row}")


async def _quality(settings, eval_path: Path, limit: int) -> dict:
    from datetime import UTC, datetime

    from api.citizens.repository import get_citizen, primary_cv
    from api.jobs.repository import open_postings_for_matching
    from api.taxonomy.repository import occupations_for_matching
    from matching.bench import ndcg_at, recall_at
    from matching.engine import build_engine
    from store.client import Store

    labels = json.loads(await asyncio.to_thread(eval_path.read_text))["citizens"][:limit]
    engine = build_engine(settings)
    store = Store(settings.effective_mongodb_uri, settings.database_name)
    try:
        now = datetime.now(UTC)
        report = await engine.load(
            occupations=await occupations_for_matching(store.db),
            postings=await open_postings_for_matching(store.db, now),
        )
        ndcgs, recalls = [], []
        for entry in labels:
            citizen = await get_citizen(store.db, entry["citizenId"])
            if citizen is None:
                continue
            cv = await primary_cv(store.db, citizen["_id"])
            profile = await engine.citizen_profile(store.db, citizen, cv)
            ranked = [j.posting.id for j in engine.recommend(profile, now, 20)]
            grades = {k: int(v) for k, v in entry["relevant"].items() if k in engine.records}
            if grades:
                ndcgs.append(ndcg_at(ranked, grades, 10))
                recalls.append(recall_at(ranked, grades, 20))
    finally:
        await store.close()
    return {
        "citizens": len(ndcgs),
        "ndcg_at_10": round(statistics.mean(ndcgs), 4) if ndcgs else None,
        "recall_at_20": round(statistics.mean(recalls), 4) if recalls else None,
        "indexed_postings": report.postings,
    }


@bench.command("matching")
def bench_matching(
    postings: list[int] = typer.Option(
        [10_000, 100_000], "--postings", help="Index sizes; repeat the option (e.g. 1000000)"
    ),
    queries: int = typer.Option(200, help="Queries per measurement"),
    eval_file: Path | None = typer.Option(
        None, "--eval", help="Evaluation export from `jobunivers seed --eval-out` (same DB)"
    ),
    eval_citizens: int = typer.Option(500, help="Labelled citizens to score"),
    skip_embedding: bool = typer.Option(False, help="Skip the embedding throughput"),
    as_json: bool = typer.Option(False, "--json", help="Print JSON"),
) -> None:
    """Index build/latency/recall/memory, ranking latency, embedding rate, quality.
    `--postings 0` skips the synthetic index and ranking figures."""
    from core.settings import get_settings
    from matching.bench import bench_embedding, bench_index, bench_ranking

    settings = get_settings()
    result: dict = {"index": [], "ranking": []}
    for n in (p for p in postings if p > 0):
        console.print(f"index over {n:,} synthetic vectors ...")
        figures = bench_index(n, queries)
        result["index"].append({"postings": n, "exact": figures.exact, "hnsw": figures.hnsw})
        if n <= 200_000:
            console.print(f"ranking over {n:,} postings ...")
            result["ranking"].append(bench_ranking(n, queries))
    if not skip_embedding:
        from matching.embeddings import Embedder
        from seed.generator import Generator, SeedSpec
        from seed.taxonomy import load_taxonomy

        console.print("embedding throughput ...")
        from matching.texts import posting_text

        taxonomy = load_taxonomy(settings.taxonomy_dir)
        labels = {o["_id"]: o["labelDa"] for o in taxonomy.occupations}
        gen = Generator(taxonomy, SeedSpec(companies=50, postings=256))
        list(gen.companies_docs())
        texts = [posting_text(d, labels.get(d["occupationId"])) for d in gen.postings_docs()]
        embedder = Embedder(
            settings.model_name_or_path,
            max_tokens=settings.embedding_max_tokens,
            batch_size=settings.embedding_batch_size,
            workers=settings.embedding_workers,
            reuse_memory=settings.embedding_reuse_memory,
        )
        result["embedding"] = bench_embedding(texts, embedder)
    if eval_file is not None:
        console.print("quality on the evaluation export ...")
        result["quality"] = asyncio.run(_quality(settings, eval_file, eval_citizens))
    _emit(result, as_json)


@bench.command("titles")
def bench_titles(as_json: bool = typer.Option(False, "--json", help="Print JSON")) -> None:
    """Title normalisation on held-out Danish alternative labels: MAP, MRR, recall@10 for
    n-grams alone, embeddings alone and the hybrid."""
    from core.settings import get_settings
    from matching.embeddings import Embedder
    from matching.titles import evaluate
    from seed.taxonomy import load_taxonomy

    settings = get_settings()
    embedder = Embedder(
        settings.model_name_or_path,
        max_tokens=settings.embedding_max_tokens,
        batch_size=settings.embedding_batch_size,
        cache_dir=settings.data_dir / "embeddings",
    )
    _emit(evaluate(load_taxonomy(settings.taxonomy_dir).occupations, embedder), as_json)


@bench.command("typeahead")
def bench_typeahead(
    rounds: int = typer.Option(3, help="Passes over the keystroke queries"),
    first: int = typer.Option(8, help="Results per query (the app asks for 8)"),
    as_json: bool = typer.Option(False, "--json", help="Print JSON"),
) -> None:
    """The typeahead in-process, old and new path in the same run: the hybrid search embedding
    every keystroke (old) against the lexical index, cold (no cached answer) and warm. Queries
    are the load bench's titles typed a letter at a time (3 letters on)."""
    import time

    from core.settings import get_settings
    from matching.bench import percentiles
    from matching.embeddings import Embedder
    from matching.titles import TitleNormalizer, taxonomy_entries
    from seed.taxonomy import load_taxonomy

    from .load import SEARCHES

    settings = get_settings()
    embedder = Embedder(
        settings.model_name_or_path,
        max_tokens=settings.embedding_max_tokens,
        batch_size=settings.embedding_batch_size,
        workers=1,
        cache_dir=settings.data_dir / "embeddings",
    )
    occupations = load_taxonomy(settings.taxonomy_dir).occupations
    titles = TitleNormalizer(taxonomy_entries(occupations), embedder)
    queries = [s[:n] for s in SEARCHES for n in range(3, len(s) + 1)]
    samples: dict[str, list[float]] = {"old": [], "new_cold": [], "new_warm": []}
    fallbacks = 0
    for _ in range(rounds):
        for q in queries:  # interleaved, so a loaded machine weighs on every path alike
            titles.clear_caches()
            t = time.perf_counter()
            titles.search(q, first, cached=False)
            samples["old"].append((time.perf_counter() - t) * 1000)
            before = titles.fallbacks
            t = time.perf_counter()
            titles.typeahead(q, first)
            samples["new_cold"].append((time.perf_counter() - t) * 1000)
            fallbacks += titles.fallbacks - before
            t = time.perf_counter()
            titles.typeahead(q, first)
            samples["new_warm"].append((time.perf_counter() - t) * 1000)
    labels = {o["_id"]: o["labelDa"] for o in occupations}
    result: dict = {
        "queries": len(queries) * rounds,
        "labels": len(titles.labels),
        "fallbacks_to_embedding": fallbacks,
        **{path: percentiles(values) for path, values in samples.items()},
        "examples": {
            q: [labels[m.occupation_id] for m in titles.typeahead(q, first)]
            for q in ("lagermedarbjder", "pædagogmedhjælper", "pædagogmed", "chaufør", "lager")
        },
    }
    _emit(result, as_json)


@bench.command("mydata")
def bench_mydata(
    citizens: int = typer.Option(1000, help="Generated citizens in the scratch database"),
    samples: int = typer.Option(100, help="Citizens measured (and then erased)"),
    as_json: bool = typer.Option(False, "--json", help="Print JSON"),
) -> None:
    """Mine data, the export and account erasure: latency per citizen on a scratch embedded
    database seeded with the default demo data (the real database is never touched)."""
    import time
    from datetime import UTC, datetime

    from api.auth.actor import Actor, Role
    from api.auth.local_tokens import LocalTokenVerifier
    from api.indexes import all_index_specs
    from api.privacy import service as privacy
    from core.settings import get_settings
    from matching.bench import percentiles
    from seed.generator import SeedSpec
    from seed.run import seed_database
    from seed.taxonomy import load_taxonomy
    from store.client import Store
    from store.indexes import ensure_indexes

    settings = get_settings()

    async def run(uri: str) -> dict:
        store = Store(uri, "bench_mydata")
        await ensure_indexes(store.db, all_index_specs())
        spec = SeedSpec(citizens=citizens, as_of=datetime.now(UTC).date())
        console.print(f"seeding {citizens:,} citizens ...")
        await seed_database(store.db, load_taxonomy(settings.taxonomy_dir), spec)
        cursor = store.db.citizens.find({}, {"_id": 1}).limit(samples)
        actors = [Actor(id=d["_id"], role=Role.CITIZEN) async for d in cursor]
        verifier = LocalTokenVerifier("bench")
        steps = {
            "myData": lambda a: privacy.my_data(store.db, a, "da"),
            "exportMyData": lambda a: privacy.export_my_data(store.db, a, "da"),
            "deleteMyAccount": lambda a: privacy.delete_my_account(store.db, verifier, a, True),
        }
        out = {}
        for name, step in steps.items():
            times = []
            for actor in actors:
                started = time.perf_counter()
                await step(actor)
                times.append((time.perf_counter() - started) * 1000)
            out[name] = {"citizens": len(times), **percentiles(times)}
        await store.close()
        return out

    _emit_from_scratch_database(run, as_json)


@bench.command("deck")
def bench_deck(
    offers: int = typer.Option(20_000, help="Open coffee-meeting offers across Denmark"),
    citizens: int = typer.Option(100, help="Citizens whose decks are built"),
    first: int = typer.Option(10, help="Cards per deck"),
    baseline: bool = typer.Option(True, help="Also time the old path (scan) in the same run"),
    profile: Path | None = typer.Option(None, help="Write a cProfile of the catalogue decks"),
    as_json: bool = typer.Option(False, "--json", help="Print JSON"),
) -> None:
    """The swipe deck in-process on a scratch embedded database, old and new in the same run:
    ``scan`` reads and ranks every open offer of the citizen's areas (the old path),
    ``catalogue`` takes the first cut from the in-memory offer catalogue by area and target
    occupation and reads only the returned offers. Vectors are deterministic random ones and
    the profile is the citizen's wishes (no model is loaded: this times the deck, not the
    embedder). Reports how many on-field cards the two decks share."""
    import cProfile
    import time
    from datetime import UTC, datetime

    import numpy as np

    from api.auth.actor import Actor, Role
    from api.indexes import prepare_collections
    from api.meetings import deck
    from api.offers.catalogue import catalogue_for
    from api.taxonomy.repository import occupations_for_matching
    from core.settings import get_settings
    from matching.bench import percentiles
    from matching.records import CitizenProfile
    from seed.generator import SeedSpec
    from seed.run import seed_database
    from seed.taxonomy import load_taxonomy
    from store.client import Store

    settings = get_settings()
    now = datetime.now(UTC)
    taxonomy = load_taxonomy(settings.taxonomy_dir)

    def unit(seed: str) -> np.ndarray:
        rng = np.random.default_rng(abs(hash(seed)) % 2**32)
        v = rng.standard_normal(384).astype(np.float32)
        return v / np.linalg.norm(v)

    class BenchEngine:  # the parts of MatchingEngine the deck uses, without a model
        ready = True

        def __init__(self) -> None:
            self.occupation_isco: dict[str, str] = {}
            self.vectors: dict[str, np.ndarray] = {}

        async def citizen_profile(self, db, citizen, cv, feedback=None, locale="da"):
            lon, lat = citizen["location"]["coordinates"]
            prefs = citizen.get("preferences", {})
            wanted = {o: self.occupation_isco.get(o, "") for o in prefs.get("occupationIds", [])}
            return CitizenProfile(
                id=citizen["_id"], lat=lat, lon=lon, radius_km=prefs.get("radiusKm", 30),
                vector=unit(citizen["_id"]), wanted=wanted, feedback=feedback or {},
                locale=locale,
            )  # fmt: skip

        def _vector(self, oid: str) -> np.ndarray:
            if oid not in self.vectors:
                self.vectors[oid] = unit(oid)
            return self.vectors[oid]

        async def warm_offer_vectors(self, docs):
            return {d["_id"]: self._vector(d["_id"]) for d in docs}

        def known_offer_vectors(self, docs):
            return {d["_id"]: self._vector(d["_id"]) for d in docs}

        cached_offer_vectors = known_offer_vectors

        def wait_for_offer_filler(self, timeout: float = 60.0) -> bool:
            return True

    async def run(uri: str) -> dict:
        store = Store(uri, "bench_deck")
        await prepare_collections(store.db)
        spec = SeedSpec(
            companies=300, postings=10, offers=offers, citizens=citizens, as_of=now.date()
        )
        console.print(f"seeding {offers:,} offers ...")
        started = time.perf_counter()
        await seed_database(store.db, taxonomy, spec)
        seed_s = time.perf_counter() - started
        engine = BenchEngine()
        docs = await occupations_for_matching(store.db)
        engine.occupation_isco = {d["_id"]: d.get("iscoCode", "") for d in docs}
        people = await store.db.citizens.find({}, {"_id": 1}).to_list()
        started = time.perf_counter()
        await catalogue_for(store.db).ensure_loaded(store.db, engine)
        load_s = time.perf_counter() - started
        paths = ("scan", "catalogue") if baseline else ("catalogue",)
        times: dict[str, list[float]] = {name: [] for name in paths}
        shared, total = 0, 0
        profiler = cProfile.Profile() if profile else None
        for person in people:
            actor = Actor(person["_id"], Role.CITIZEN)
            cards = {}
            for name in paths:
                if profiler and name == "catalogue":
                    profiler.enable()
                started = time.perf_counter()
                got = await deck.swipe_deck(
                    store.db,
                    engine,
                    actor,
                    first,
                    "da",
                    scan=name == "scan",  # type: ignore[arg-type]
                )
                times[name].append((time.perf_counter() - started) * 1000)
                if profiler and name == "catalogue":
                    profiler.disable()
                cards[name] = [c.offer_id for _, c in got if c.on_field]
            if baseline:
                total += len(cards["scan"])
                shared += len(set(cards["scan"]) & set(cards["catalogue"]))
        if profiler and profile:
            profiler.dump_stats(str(profile))
        await store.close()
        out: dict = {
            "offers": offers,
            "citizens": len(people),
            "catalogue_load_s": round(load_s, 2),
            "seed_s": round(seed_s, 1),
            "on_field_cards_shared": f"{shared}/{total}" if baseline else "not compared",
        }
        for name, samples in times.items():
            out[name] = percentiles(samples)
        return out

    _emit_from_scratch_database(run, as_json)


@bench.command("alerts")
def bench_alerts(
    agents: list[int] = typer.Option(
        [100_000], "--agents", help="Agent counts; repeat the option (e.g. 1000000)"
    ),
    postings: int = typer.Option(2000, "--postings", help="New postings per run"),
    messages: int = typer.Option(5000, "--messages", help="Outbox messages to push"),
    as_json: bool = typer.Option(False, "--json", help="Print JSON"),
) -> None:
    """Job agents: time to match new postings against N agents (synthetic vectors spread over
    Denmark), and outbox throughput through firebase-admin to the fake FCM server on a scratch
    embedded database (the fake speaks HTTP/2 in its own process)."""
    result: dict = {"matching": [], "outbox": None}
    for n in agents:
        console.print(f"matching {postings:,} postings against {n:,} agents ...")
        result["matching"].append(_bench_agent_matching(n, postings))
    if messages:
        console.print(f"pushing {messages:,} outbox messages to the fake FCM server ...")
        result["outbox"] = _bench_outbox(messages)
    _emit(result, as_json)


def _bench_agent_matching(n_agents: int, n_postings: int) -> dict:
    import time
    from datetime import UTC, datetime, timedelta

    import numpy as np

    from core.places import TOWNS
    from matching.alerts import AgentIndex, AgentRecord
    from matching.records import PostingRecord

    rng = np.random.default_rng(7)
    dim = 384
    # Clustered vectors, as real occupations are: 300 centres, noise around each.
    centres = rng.standard_normal((300, dim)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)

    def around(k: int) -> tuple[np.ndarray, np.ndarray]:
        which = rng.integers(0, len(centres), k)
        v = centres[which] + 0.08 * rng.standard_normal((k, dim)).astype(np.float32)
        return v / np.linalg.norm(v, axis=1, keepdims=True), which

    towns = list(TOWNS)
    a_vec, a_centre = around(n_agents)
    started = time.perf_counter()
    records = []
    for i in range(n_agents):
        town = towns[i % len(towns)]
        records.append(
            AgentRecord(
                id=f"a{i}", vector=a_vec[i], lat=town.lat, lon=town.lon,
                radius_km=float((10, 20, 30, 50)[i % 4]), hours="ANY",
                occupations={f"occ-{a_centre[i]}": f"{1000 + a_centre[i] % 900}"},
            )
        )  # fmt: skip
    index = AgentIndex(records)
    build_s = time.perf_counter() - started
    p_vec, p_centre = around(n_postings)
    now = datetime.now(UTC)
    posts = []
    for j in range(n_postings):
        town = towns[(j * 7) % len(towns)]
        posts.append(
            PostingRecord(
                id=f"p{j}", title="Lagermedarbejder", occupation_id=f"occ-{p_centre[j]}",
                isco=f"{1000 + p_centre[j] % 900}", lat=town.lat, lon=town.lon, hours="FULL_TIME",
                deadline=now + timedelta(days=20), posted_at=now, company_cvr="1",
                company_name="x", town=town.name, requirements=(),
            )
        )  # fmt: skip
    started = time.perf_counter()
    matches = index.match(posts, p_vec)
    match_s = time.perf_counter() - started
    return {
        "agents": n_agents,
        "postings": n_postings,
        "index_build_s": round(build_s, 2),
        "match_s": round(match_s, 2),
        "matches": len(matches),
        "index_mb": round(index.vectors.nbytes / 2**20, 1),
    }


@bench.command("outbox")
def bench_outbox(
    messages: int = typer.Option(2000, "--messages", help="Messages (one device each)"),
    baseline: list[str] = typer.Option(
        [],
        "--baseline",
        help="Also drain with the notifications package of this git revision (e.g. HEAD), or "
        "of a directory holding a notifications/ copy, in the same run: before and after side "
        "by side (repeatable)",
    ),
    rounds: int = typer.Option(1, "--rounds", help="Alternate raw and drains this many times"),
    as_json: bool = typer.Option(False, "--json", help="Print JSON"),
) -> None:
    """Outbox throughput against the raw send path, in one run: (a) firebase-admin's
    ``send_each_async`` (the FCM transport, in calls of the worker's slice size) sending N
    built messages to the fake FCM server (HTTP/2, its own process) with no database, and (b)
    N messages queued in the outbox of a scratch embedded database and drained by the worker
    through the same transport and fake; prints both rates (medians over the rounds) and their
    ratio. Each part runs in a fresh process; raw and drains alternate, so a machine whose load
    changes during the run distorts them alike."""
    _emit({"outbox": _bench_outbox(messages, baseline=baseline, rounds=rounds)}, as_json)


def _bench_outbox(
    n: int, *, baseline: str | list[str] | None = None, rounds: int = 1, slice_size: int = 50
) -> dict:
    """See ``bench outbox``. ``baseline``: git revisions (or directories holding a
    ``notifications`` copy) whose ``notifications`` package also drains a copy of the same
    queue (a revision is exported to a temp dir; either is put first on the child's path)."""
    import os
    import subprocess
    import sys
    import tempfile

    from notifications.fake_fcm import FakeFcmProcess

    repo = Path(__file__).resolve().parents[1]

    def child(mode: str, uri: str, db_name: str, fake_url: str, path: str | None = None) -> dict:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (path, str(repo)) if p)}
        code = "from jobunivers.bench import _outbox_child; _outbox_child()"
        out = subprocess.run(
            [sys.executable, "-c", code, mode, uri, db_name, fake_url, str(n), str(slice_size)],
            cwd=path or repo, env=env, capture_output=True, text=True, check=True,
        )  # fmt: skip
        return json.loads(out.stdout.strip().splitlines()[-1])

    with scratch_database() as uri, tempfile.TemporaryDirectory() as tmp:
        fake = FakeFcmProcess().start()
        try:
            drains: dict[str, str | None] = {"current": None}
            for i, rev in enumerate([baseline] if isinstance(baseline, str) else baseline or []):
                if (Path(rev) / "notifications").is_dir():
                    drains[f"baseline {rev}"] = str(Path(rev).resolve())
                    continue
                archive = subprocess.run(["git", "archive", rev, "notifications"],
                                         cwd=repo, capture_output=True, check=True).stdout  # fmt: skip
                os.makedirs(os.path.join(tmp, str(i)))
                subprocess.run(["tar", "-x", "-C", os.path.join(tmp, str(i))], input=archive,
                               check=True)  # fmt: skip
                drains[f"baseline {rev}"] = os.path.join(tmp, str(i))
            runs: dict[str, list[dict]] = {"raw": [], **{name: [] for name in drains}}
            for r in range(rounds):
                for i in range(len(drains)):
                    asyncio.run(_outbox_seed(uri, f"bench_outbox_{r}_{i}", n))
                runs["raw"].append(child("raw", uri, "-", fake.url))
                for i, (name, path) in enumerate(drains.items()):
                    runs[name].append(child("drain", uri, f"bench_outbox_{r}_{i}", fake.url, path))
            runs["raw"].append(child("raw", uri, "-", fake.url))
            raw_rate = round(statistics.median(x["messages_per_s"] for x in runs["raw"]))
            result: dict = {"messages": n, "slice_size": slice_size, "rounds": rounds,
                            "raw_send_path": {"messages_per_s": raw_rate,
                                              "runs": [x["messages_per_s"] for x in runs["raw"]]}}  # fmt: skip
            for name in drains:
                rate = round(statistics.median(x["messages_per_s"] for x in runs[name]))
                result[f"end_to_end ({name})"] = {
                    "messages_per_s": rate,
                    "ratio_to_raw": round(rate / raw_rate, 2),
                    "runs": runs[name],
                }
            result["received_by_fake_fcm"] = fake.received()
            return result
        finally:
            fake.stop()


NOON = "2026-11-24T11:00:00+00:00"  # a Tuesday, outside quiet hours: the bench's clock


async def _outbox_seed(uri: str, db_name: str, n: int) -> None:
    """``n`` citizens with one device and one (non-critical) MEETINGS push each. The first is
    made by the real functions, the rest are copies written in bulk (one by one is slow)."""
    import uuid
    from datetime import datetime

    from api.citizens import repository as citizens
    from api.indexes import all_index_specs
    from notifications import devices, inbox, outbox
    from notifications.inbox import Text, notify
    from store.client import Store
    from store.indexes import ensure_indexes

    store = Store(uri, db_name)
    db, noon = store.db, datetime.fromisoformat(NOON)
    await ensure_indexes(db, all_index_specs())
    users = [f"u{i}" for i in range(n)]
    await citizens.insert_citizens(db, [{"_id": u, "consents": {}} for u in users])
    await devices.register(db, user_id=users[0], role="citizen", token=f"ok-{users[0]}",
                           platform="ANDROID", app_version="1", locale="da", now=noon)  # fmt: skip
    await notify(db, recipient_id=users[0], recipient_role="citizen", category="MEETINGS",
                 key=f"bench:{users[0]}", text=Text("Titel", "Tekst", "Title", "Text"),
                 route="/meetings/x", payload_type="meeting-update", now=noon)  # fmt: skip
    device = await devices.any_one(db)
    entry = await inbox.any_one(db)
    push = await outbox.any_one(db)
    assert device is not None and entry is not None and push is not None
    ids = {u: uuid.uuid4().hex for u in users[1:]}
    await devices.insert_bulk(db, [{**device, "_id": f"ok-{u}", "userId": u} for u in ids])
    await inbox.insert_bulk(db, [{**entry, "_id": i, "recipientId": u, "key": f"bench:{u}"}
                                 for u, i in ids.items()])  # fmt: skip
    await outbox.insert_bulk(
        db,
        [{**push, "_id": i, "inboxId": i, "recipientId": u, "key": f"bench:{u}",
          "idempotencyKey": f"{u}:bench:{u}"} for u, i in ids.items()],
    )  # fmt: skip
    await store.close()


def _outbox_child() -> None:
    """One part of ``bench outbox`` in a fresh process (argv: mode uri db fake_url n slice):
    ``raw`` sends n built messages through the FCM transport with no database; ``drain``
    drains the seeded outbox with the worker. Prints one JSON line."""
    import sys
    import time
    from datetime import datetime, timedelta

    from notifications import payloads
    from notifications.fake_fcm import firebase_test_app
    from notifications.transports import FcmTransport

    mode, uri, db_name, fake_url, n, slice_size = sys.argv[1:7]
    n, slice_size = int(n), int(slice_size)
    noon = datetime.fromisoformat(NOON)
    transport = FcmTransport(firebase_test_app(fake_url, http2_prior_knowledge=True))

    async def raw() -> dict:
        entry = {"idempotencyKey": "u:bench", "inboxId": "i", "title": "Titel", "body": "Tekst",
                 "route": "/meetings/x", "payloadType": "meeting-update", "category": "MEETINGS"}  # fmt: skip
        built = [payloads.build(entry, f"ok-u{i}", noon) for i in range(n)]
        started = time.perf_counter()
        sent = 0
        for at in range(0, n, slice_size):
            outcomes = await transport.send(built[at : at + slice_size])
            sent += sum(o == "sent" for o in outcomes)
        seconds = time.perf_counter() - started
        return {"sent": sent, "seconds": round(seconds, 2), "messages_per_s": round(sent / seconds)}

    async def drain() -> dict:
        from api.directory import AccountsDirectory
        from notifications.worker import drain_once
        from store.client import Store

        store = Store(uri, db_name)
        started = time.perf_counter()
        report = await drain_once(store.db, transport, AccountsDirectory(), "bench",
                                  timedelta(seconds=60), slice_size=slice_size, now=noon)  # fmt: skip
        seconds = time.perf_counter() - started
        await store.close()
        return {"messages": report.messages, "delivered": report.delivered,
                "seconds": round(seconds, 2),
                "messages_per_s": round(report.delivered / seconds),
                "outcomes": report.by_outcome, "seconds_by_phase": report.seconds}  # fmt: skip

    print(json.dumps(asyncio.run(raw() if mode == "raw" else drain())))


@bench.command("live")
def bench_live(
    subscribers: int = typer.Option(20, help="Citizens, each with a MeetingUpdates socket"),
    changes: int = typer.Option(200, help="Meeting-request changes measured per mode"),
    interval_ms: float = typer.Option(50.0, help="Time between two changes"),
    poll_s: float = typer.Option(2.0, help="The polling fallback's interval (the default)"),
    as_json: bool = typer.Option(False, "--json", help="Print JSON"),
) -> None:
    """Live updates: time from a committed meeting-request change (the employer opens a
    request: PENDING -> SEEN, acknowledged by the database) to its arrival at the citizen's
    MeetingUpdates subscription over graphql-transport-ws. A real `jobunivers serve` process on
    a scratch embedded database, run twice: woken by change streams, then polling only (the
    fallback). Commitment: change streams p99 <= 500 ms, nothing lost or repeated."""
    import tempfile

    result: dict = {"subscribers": subscribers, "changes": changes, "interval_ms": interval_ms}
    with tempfile.TemporaryDirectory() as scratch, scratch_database() as uri:
        for mode, streams in (("change_streams", True), (f"polling_{poll_s:g}s", False)):
            console.print(f"{mode}: {changes} changes to {subscribers} subscribers ...")
            result[mode] = _bench_live_mode(
                uri, Path(scratch), f"bench_live_{'streams' if streams else 'poll'}",
                change_streams=streams, poll_s=poll_s, subscribers=subscribers,
                changes=changes, interval_ms=interval_ms,
            )  # fmt: skip
    _emit(result, as_json)


# --- bench live: a real `jobunivers serve`, citizens' MeetingUpdates sockets, and changes written
# through the meetings repository; latency from the write's acknowledgement (committed) to the
# message's arrival at the subscriber.
_LIVE_SECRET = "bench-live-" + "s" * 40
_LIVE_SUBSCRIPTION = "subscription BenchLive { meetingUpdates { kind id status } }"


def _live_serve(uri: str, db_name: str, scratch: Path, port: int, change_streams: bool,
                poll_s: float) -> tuple[subprocess.Popen[bytes], Path]:  # fmt: skip
    return _serve(uri, db_name, scratch, port, _LIVE_SECRET, {
        "JOBUNIVERS_LIVE_UPDATES_CHANGE_STREAMS": "true" if change_streams else "false",
        "JOBUNIVERS_LIVE_UPDATES_POLL_S": str(poll_s),
        "JOBUNIVERS_LOG_LEVEL": "INFO",
    })  # fmt: skip


def _serve(uri: str, db_name: str, scratch: Path, port: int, secret: str,
           extra_env: dict[str, str]) -> tuple[subprocess.Popen[bytes], Path]:  # fmt: skip
    """`jobunivers serve` on ``port`` over the scratch database ``db_name`` (no background
    chores), once /readyz answers 200; its log is ``scratch/<db_name>.log``."""
    import contextlib
    import os
    import subprocess
    import sys
    import time

    import httpx

    log = scratch / f"{db_name}.log"
    env = {
        **os.environ,
        "JOBUNIVERS_MODE": "local",
        "JOBUNIVERS_MONGODB_URI": uri,
        "JOBUNIVERS_DATABASE_NAME": db_name,
        "JOBUNIVERS_DATA_DIR": str(scratch / db_name),
        "JOBUNIVERS_LOCAL_TOKEN_SECRET": secret,
        "JOBUNIVERS_HOUSEKEEPING_INTERVAL_S": "0",
        "JOBUNIVERS_JOB_AGENT_INTERVAL_S": "0",
        **extra_env,
    }
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "jobunivers.cli", "serve", "--port", str(port)],
            env=env, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    deadline = time.monotonic() + 180
    while True:
        if proc.poll() is not None or time.monotonic() > deadline:
            _live_stop(proc)
            raise RuntimeError(f"jobunivers serve did not become ready; see {log}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                return proc, log
        time.sleep(0.2)


def _live_stop(proc: subprocess.Popen[bytes]) -> None:
    import signal
    import subprocess

    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


async def _live_measure(uri: str, db_name: str, port: int, subscribers: int, changes: int,
                        interval_ms: float, settle_s: float) -> dict:  # fmt: skip
    import contextlib
    import time
    import uuid
    from datetime import UTC, datetime, timedelta

    from websockets.asyncio.client import connect

    from api.auth.actor import Role
    from api.auth.local_tokens import mint_local_token
    from api.meetings import repository
    from matching.bench import percentiles
    from store.client import Store

    store = Store(uri, db_name)
    citizens = [f"bench-live-{i}" for i in range(subscribers)]
    old = datetime.now(UTC) - timedelta(hours=1)  # outside the look-back: not sent at start
    requests = []
    for i in range(changes):
        doc = {"_id": uuid.uuid4().hex, "citizenId": citizens[i % subscribers],
               "offerId": f"bench-offer-{i}", "companyCvr": "12345674", "status": "PENDING",
               "createdAt": old, "updatedAt": old, "seenAt": None}  # fmt: skip
        await repository.insert_request(store.db, doc, None)
        requests.append(doc["_id"])

    arrivals: dict[str, float] = {}
    all_in = asyncio.Event()
    counts = {"duplicates": 0, "graphql_errors": 0, "socket_errors": 0}

    async def follow(ws) -> None:
        try:
            async for raw in ws:
                message = json.loads(raw)
                if message.get("type") == "ping":
                    await ws.send(json.dumps({"type": "pong"}))
                if message.get("type") != "next":
                    continue
                payload = message["payload"]
                if payload.get("errors"):
                    counts["graphql_errors"] += 1
                    continue
                update = payload["data"]["meetingUpdates"]
                if update["status"] != "SEEN":
                    continue
                if update["id"] in arrivals:
                    counts["duplicates"] += 1
                else:
                    arrivals[update["id"]] = time.perf_counter()
                    if len(arrivals) == changes:
                        all_in.set()
        except Exception:  # a broken socket is counted, not raised: the figures say it
            counts["socket_errors"] += 1

    sockets, readers = [], []
    for citizen in citizens:
        token = mint_local_token(_LIVE_SECRET, citizen, Role.CITIZEN, None, timedelta(hours=1))
        ws = await connect(f"ws://127.0.0.1:{port}/graphql", subprotocols=["graphql-transport-ws"])
        await ws.send(json.dumps({"type": "connection_init",
                                  "payload": {"authorization": f"Bearer {token}"}}))  # fmt: skip
        ack = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert ack["type"] == "connection_ack", ack
        await ws.send(json.dumps({"id": "1", "type": "subscribe",
                                  "payload": {"query": _LIVE_SUBSCRIPTION}}))  # fmt: skip
        sockets.append(ws)
        readers.append(asyncio.create_task(follow(ws)))
    await asyncio.sleep(settle_s)  # every subscription started (and the feed open)

    acked: dict[str, float] = {}
    writes_ms = []
    for request_id in requests:
        started = time.perf_counter()
        await repository.mark_seen(store.db, request_id, datetime.now(UTC))
        acked[request_id] = time.perf_counter()
        writes_ms.append((acked[request_id] - started) * 1000)
        await asyncio.sleep(interval_ms / 1000)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(all_in.wait(), 15)
    await asyncio.sleep(0.5)  # a repeat would show up now
    for ws in sockets:
        await ws.close()
    for task in readers:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    await store.close()

    latencies = [(arrivals[r] - acked[r]) * 1000 for r in acked if r in arrivals]
    return {
        "received": len(latencies),
        **(percentiles(latencies) if latencies else {}),
        "max_ms": round(max(latencies), 3) if latencies else None,
        "mean_ms": round(statistics.mean(latencies), 3) if latencies else None,
        "lost": len(acked) - len(latencies),
        **counts,
        "write_p50_ms": round(statistics.median(writes_ms), 3),
    }


def _bench_live_mode(uri: str, scratch: Path, db_name: str, *, change_streams: bool,
                     poll_s: float, subscribers: int, changes: int,
                     interval_ms: float) -> dict:  # fmt: skip
    from store.embedded import free_port

    port = free_port()
    proc, log = _live_serve(uri, db_name, scratch, port, change_streams, poll_s)
    try:
        figures = asyncio.run(
            _live_measure(
                uri, db_name, port, subscribers, changes, interval_ms, settle_s=poll_s + 1
            )
        )
    finally:
        _live_stop(proc)
    text = log.read_text(encoding="utf-8", errors="replace")
    figures["server_feed"] = (
        "live" if "change feed live" in text
        else "no change streams" if "no change streams" in text
        else "polling only"
    )  # fmt: skip
    return figures


FAULTS = ("kill-db", "kill-after-ack", "kill-all-after-ack", "stall-db", "kill-api", "kill-worker",
          "disk-full")  # fmt: skip


@bench.command("faults")
def bench_faults(
    only: list[str] = typer.Option(list(FAULTS), "--fault", help="Faults to inject, in order"),
    rate: float = typer.Option(20.0, help="App writes per second while a fault is injected"),
    runs: int = typer.Option(20, help="kill -9 runs right after acknowledged writes"),
    stall_s: float = typer.Option(30.0, help="How long the database is stopped (SIGSTOP)"),
    as_json: bool = typer.Option(False, "--json", help="Print JSON"),
) -> None:
    """Faults on a scratch stack (`jobunivers run` on a temporary data directory): per fault,
    acknowledged writes against those found afterwards, time to recover, codes seen."""
    import tempfile

    from .faults import run_faults
    from .scratch import ScratchStack

    result: dict = {"faults": []}
    on_stack = [f for f in only if f != "disk-full"]
    if on_stack:
        with tempfile.TemporaryDirectory(prefix="jobunivers-faults-") as root:
            # Kills come back to back here: the supervisor's crash-loop back-off (doubling to
            # 30 s while a child keeps dying) would time the back-off, not the recovery.
            env = {"JOBUNIVERS_SUPERVISOR_BACKOFF_MAX_S": "2"}
            stack = ScratchStack(Path(root), extra_env=env)
            console.print("Starting a scratch stack (jobunivers run) ...")
            stack.start()
            try:
                result = asyncio.run(
                    run_faults(stack, on_stack, rate=rate, runs=runs, stall_s=stall_s)
                )
            finally:
                stack.stop()
    if "disk-full" in only:
        result["faults"].append(_disk_full_fault(rate))
    _emit(result, as_json)


def _disk_full_fault(rate: float) -> dict:
    """A stack whose database lives on an 80 MB tmpfs (mounting one needs root)."""
    import os
    import subprocess
    import tempfile

    from .faults import disk_full
    from .scratch import ScratchStack

    if os.geteuid() != 0:
        return {"fault": "disk full", "skipped": "needs root to mount a small tmpfs"}
    with tempfile.TemporaryDirectory(prefix="jobunivers-diskfull-") as root:
        storage = Path(root) / "var" / "db"
        storage.mkdir(parents=True)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=80m", "tmpfs", str(storage)],
                       check=True)  # fmt: skip
        try:
            # readiness wants 256 MB free by default: on an 80 MB disk, ask for 8
            env = {"JOBUNIVERS_READINESS_MIN_FREE_DISK_MB": "8"}
            stack = ScratchStack(Path(root), citizens=60, offers=20, extra_env=env)
            console.print("Starting a scratch stack with its database on an 80 MB tmpfs ...")
            stack.start()
            try:
                return asyncio.run(disk_full(stack, rate, 45))
            finally:
                stack.stop()
        finally:
            subprocess.run(["umount", "-l", str(storage)], check=False)


@bench.command("durability")
def bench_durability(
    rate: float = typer.Option(50.0, help="Swipes, then accepts, per second"),
    seconds: float = typer.Option(20.0, help="How long each runs"),
    as_json: bool = typer.Option(False, "--json", help="Print JSON"),
) -> None:
    """What durable writes cost: swipe (YES) and accept latency on two scratch stacks in the
    same run, one with journaled writes (the default) and one without."""
    import tempfile

    from .faults import write_latency
    from .scratch import ScratchStack

    result = {}
    for durable in (True, False):
        with tempfile.TemporaryDirectory(prefix="jobunivers-durability-") as root:
            env = {"JOBUNIVERS_DURABLE_WRITES": str(durable).lower()}
            stack = ScratchStack(Path(root), citizens=300, offers=40, extra_env=env)
            console.print(f"Starting a scratch stack (durable writes: {durable}) ...")
            stack.start()
            try:
                figures = asyncio.run(write_latency(stack, rate, seconds))
            finally:
                stack.stop()
        result["durable" if durable else "not durable"] = figures
    _emit(result, as_json)


# --- bench abuse: the H1 document (issue 16) against a real `jobunivers serve`, its guards on and
# off in the same run, and what it does to other users' requests.
_ABUSE_SECRET = "bench-abuse-" + "s" * 40
_ABUSE_USER_QUERIES = (
    "query Viewer { viewer { id role displayName } }",
    "query Notifications { notifications(first: 20) { edges { node { id title } } "
    "pageInfo { hasNextPage endCursor } } }",
)
# What the guards are with the limits raised out of reach: validation as it was before.
_GUARDS_OFF = {
    "JOBUNIVERS_MAX_REPEATED_FIELDS": "1000000",
    "JOBUNIVERS_MAX_QUERY_COST": "1000000000",
    "JOBUNIVERS_RATE_LIMITS": "false",
}


def _h1_document(n: int) -> str:
    """`{ viewer { id } ... }` 400 times (1,603 tokens, under the token limit); the comment
    makes every copy a new text, so no cache answers it."""
    return f"# {n}\n{{ " + " ".join("viewer { id }" for _ in range(400)) + " }"


def _abuse_serve(uri: str, db_name: str, scratch: Path, port: int,
                 extra_env: dict[str, str]) -> subprocess.Popen[bytes]:  # fmt: skip
    env = {"JOBUNIVERS_LOG_LEVEL": "WARNING", **extra_env}
    return _serve(uri, db_name, scratch, port, _ABUSE_SECRET, env)[0]


async def _abuse_measure(port: int, users: int, abusers: int, seconds: float,
                         samples: int) -> dict:  # fmt: skip
    import time
    from collections import Counter
    from datetime import timedelta

    import httpx

    from api.auth.actor import Role
    from api.auth.local_tokens import mint_local_token
    from matching.bench import percentiles

    url = f"http://127.0.0.1:{port}/graphql"
    counter = iter(range(10**9))

    def code_of(response: httpx.Response) -> str:
        try:
            errors = response.json().get("errors") or []
        except ValueError:
            return f"HTTP {response.status_code} (not JSON)"
        code = (errors[0].get("extensions") or {}).get("code") if errors else "ok"
        return f"{response.status_code} {code}"

    async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=64)) as http:
        # 1. The H1 document alone, unsigned: its time on the server (loopback), one by one.
        h1_ms, h1_codes = [], Counter()
        for _ in range(samples):
            started = time.perf_counter()
            response = await http.post(url, json={"query": _h1_document(next(counter))})
            h1_ms.append((time.perf_counter() - started) * 1000)
            h1_codes[code_of(response)] += 1

        tokens = [mint_local_token(_ABUSE_SECRET, f"bench-user-{i}", Role.CITIZEN, None,
                                   timedelta(hours=1)) for i in range(users)]  # fmt: skip

        async def normal_user(token: str, until: float, out: list[float], codes: Counter,
                              waiting: dict[tuple[str, int], float]):  # fmt: skip
            i = 0
            while time.monotonic() < until:
                query = _ABUSE_USER_QUERIES[i % len(_ABUSE_USER_QUERIES)]
                i += 1
                started = waiting[token, i] = time.perf_counter()
                try:
                    response = await http.post(url, json={"query": query},
                                               headers={"Authorization": f"Bearer {token}"})  # fmt: skip
                    codes[code_of(response)] += 1
                except httpx.HTTPError as e:
                    codes[type(e).__name__] += 1
                    continue
                finally:
                    waiting.pop((token, i), None)
                out.append((time.perf_counter() - started) * 1000)

        async def abuser(until: float, codes: Counter):
            while time.monotonic() < until:
                try:
                    response = await http.post(url, json={"query": _h1_document(next(counter))})
                    codes[code_of(response)] += 1
                except httpx.HTTPError as e:
                    codes[type(e).__name__] += 1

        async def phase(with_abuse: bool) -> dict:
            until = time.monotonic() + seconds
            latencies: list[float] = []
            codes: Counter = Counter()
            abuse_codes: Counter = Counter()
            waiting: dict = {}
            tasks = [asyncio.ensure_future(normal_user(t, until, latencies, codes, waiting))
                     for t in tokens]  # fmt: skip
            if with_abuse:
                tasks += [asyncio.ensure_future(abuser(until, abuse_codes))
                          for _ in range(abusers)]  # fmt: skip
            # Bounded: a request still unanswered a second after the phase counts as taking
            # at least as long as it has waited (so the p99 is a lower bound then).
            await asyncio.wait(tasks, timeout=seconds + 1.0)
            now = time.perf_counter()
            unanswered = [(now - started) * 1000 for started in waiting.values()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            samples = latencies + unanswered
            figures = {"requests": len(samples), **percentiles(samples),
                       "unanswered_at_end": len(unanswered), "answers": dict(codes)}  # fmt: skip
            if with_abuse:
                figures["abusive_answers"] = dict(abuse_codes)
            return figures

        quiet = await phase(False)
        attacked = await phase(True)
    return {
        "h1_alone": {"samples": samples, **percentiles(h1_ms), "answers": dict(h1_codes)},
        "users_alone": quiet,
        f"users_with_{abusers}_abusers": attacked,
    }


@bench.command("abuse")
def bench_abuse(
    users: int = typer.Option(8, help="Signed-in users, each sending requests one after another"),
    abusers: int = typer.Option(4, help="Unsigned clients sending the H1 document in a loop"),
    seconds: float = typer.Option(3.0, help="How long each phase runs"),
    samples: int = typer.Option(3, help="H1 documents timed one by one"),
    as_json: bool = typer.Option(False, "--json", help="Print JSON"),
) -> None:
    """Issue 16, H1: `{ viewer { id } }` 400 times, unsigned. A real `jobunivers serve` on a
    scratch embedded database, run twice: with the guards (repeated fields, cost, rate limits;
    the defaults) and with them raised out of reach (validation as before). Each run: the H1
    document's time alone, then normal users' p50/p99 alone and while abusive clients send it."""
    import tempfile

    from store.embedded import free_port

    result: dict = {"users": users, "abusers": abusers, "seconds_per_phase": seconds}
    with tempfile.TemporaryDirectory() as scratch, scratch_database() as uri:
        for mode, env in (("guards_on", {}), ("guards_off", _GUARDS_OFF)):
            console.print(f"{mode}: starting jobunivers serve ...")
            port = free_port()
            proc = _abuse_serve(uri, f"bench_abuse_{mode}", Path(scratch), port, env)
            try:
                result[mode] = asyncio.run(_abuse_measure(port, users, abusers, seconds, samples))
            finally:
                _live_stop(proc)
    _emit(result, as_json)


@bench.command("load")
def bench_load(
    ops: list[str] = typer.Option(
        ["all"],
        "--op",
        help="swipe, deck, suggestions, typeahead, "
        "accept, notifications or all; NAME=RATE for its own rate",
    ),
    rate: float = typer.Option(20.0, help="Requests per second of each operation"),
    seconds: float = typer.Option(10.0, help="How long each operation runs"),
    together: bool = typer.Option(False, help="All operations at once instead of in turn"),
    citizens: int = typer.Option(300, help="Demo citizens seeded"),
    offers: int = typer.Option(60, help="Demo coffee-meeting offers seeded"),
    postings: int = typer.Option(200, help="Demo job postings seeded"),
    api_workers: int | None = typer.Option(None, help="API processes (JOBUNIVERS_API_WORKERS)"),
    env: list[str] = typer.Option([], "--env", help="KEY=VALUE for the stack, repeatable"),
    warm_up_s: float = typer.Option(5.0, "--warm-up", help="Seconds between ready and load"),
    keep_log: Path | None = typer.Option(None, help="Copy the stack's log here at the end"),
    as_json: bool = typer.Option(False, "--json", help="Print JSON"),
) -> None:
    """Open-loop load (fixed arrival rate) on a scratch stack (`jobunivers run`: API, worker,
    housekeeping, job agent, demo data), sent from this process: per operation the offered and
    achieved rate, p50/p90/p99/max and the errors by code."""
    from .load import parse_operations, run_on_scratch_stack

    result = run_on_scratch_stack(
        parse_operations(ops, rate, seconds), together=together, citizens=citizens,
        offers=offers, postings=postings, api_workers=api_workers,
        env=dict(e.split("=", 1) for e in env), warm_up_s=warm_up_s, log=console.print,
        keep_log=keep_log,
    )  # fmt: skip
    _emit(result, as_json)
