"""The demo-data generator and the seeding of a real database."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import Counter
from datetime import date

import pytest
from pymongo import MongoClient

from api.indexes import all_index_specs
from core.cvr import is_valid_cvr
from core.settings import Settings
from seed import demo
from seed.evaluation import haversine_km
from seed.generator import Generator, SeedSpec
from seed.run import seed_database
from seed.taxonomy import load_taxonomy
from store.client import Store
from store.indexes import ensure_indexes

AS_OF = date(2026, 11, 23)
SPEC = SeedSpec(seed=7, companies=40, postings=400, offers=20, citizens=120, as_of=AS_OF)


@pytest.fixture(scope="module")
def taxonomy():
    return load_taxonomy(Settings().taxonomy_dir)


def _generate(taxonomy, spec: SeedSpec) -> dict[str, list]:
    gen = Generator(taxonomy, spec)
    out = {"companies": list(gen.companies_docs()), "postings": list(gen.postings_docs())}
    out["offers"] = list(gen.offers_docs())
    out["citizens"] = list(gen.citizen_docs())
    return out


async def _seed(uri: str, name: str, taxonomy, spec: SeedSpec, **kw):
    store = Store(uri, name)
    try:
        await ensure_indexes(store.db, all_index_specs())
        return await seed_database(store.db, taxonomy, spec, **kw)
    finally:
        await store.close()


@pytest.fixture(scope="module")
def seeded(db_server, taxonomy, tmp_path_factory):
    """One database seeded twice with the same arguments (the second run must change nothing)."""
    name = f"seed_{uuid.uuid4().hex[:8]}"
    eval_path = tmp_path_factory.mktemp("eval") / "eval.json"
    first = asyncio.run(_seed(db_server.uri, name, taxonomy, SPEC, eval_out=eval_path))
    client = MongoClient(db_server.uri, tz_aware=True)
    snapshot = {n: list(client[name][n].find().sort("_id", 1)) for n in ("postings", "citizens")}
    second = asyncio.run(_seed(db_server.uri, name, taxonomy, SPEC))
    yield {
        "db": client[name],
        "first": first,
        "second": second,
        "snapshot": snapshot,
        "eval": json.loads(eval_path.read_text()),
    }
    client.drop_database(name)
    client.close()


def test_same_seed_gives_same_data(taxonomy):
    assert _generate(taxonomy, SPEC) == _generate(taxonomy, SPEC)


def test_other_seed_gives_other_data(taxonomy):
    other = SeedSpec(seed=8, companies=40, postings=400, offers=20, citizens=120, as_of=AS_OF)
    a, b = _generate(taxonomy, SPEC), _generate(taxonomy, other)
    assert {c["_id"] for c in a["companies"]} != {c["_id"] for c in b["companies"]}


def test_more_postings_keep_the_companies(taxonomy):
    bigger = SeedSpec(seed=7, companies=40, postings=800, offers=20, citizens=120, as_of=AS_OF)
    assert _generate(taxonomy, SPEC)["companies"] == _generate(taxonomy, bigger)["companies"]


def test_companies_are_valid_and_spread(taxonomy):
    companies = _generate(
        taxonomy, SeedSpec(seed=3, companies=300, postings=0, offers=0, citizens=0, as_of=AS_OF)
    )["companies"]
    assert all(is_valid_cvr(c["_id"]) for c in companies)
    assert len({c["_id"] for c in companies}) == 300
    assert len({c["name"] for c in companies}) == 300
    assert {c["region"] for c in companies} == {
        "Region Hovedstaden",
        "Region Sjælland",
        "Region Syddanmark",
        "Region Midtjylland",
        "Region Nordjylland",
    }
    assert all(c["website"].startswith("https://www.") for c in companies)


def test_postings_have_reposts_and_multi_city_copies(taxonomy):
    postings = _generate(taxonomy, SPEC)["postings"]
    assert len(postings) == SPEC.postings
    by_job = Counter((p["companyCvr"], p["title"]) for p in postings)
    assert any(n > 1 for n in by_job.values()), "expected reposts or copies"
    towns_per_job: dict = {}
    for p in postings:
        towns_per_job.setdefault((p["companyCvr"], p["title"], p["postedAt"].date()), set()).add(
            p["town"]
        )
    assert any(len(t) > 1 for t in towns_per_job.values()), "expected multi-city copies"
    for p in postings:
        assert p["deadline"] > p["postedAt"]
        assert p["hours"] in ("FULL_TIME", "PART_TIME")
        assert "søger" in p["description"] and "Vi tilbyder" in p["description"]


def test_citizens_have_plausible_careers(taxonomy):
    occ = taxonomy.by_id()
    citizens = _generate(
        taxonomy, SeedSpec(seed=5, companies=10, postings=0, offers=0, citizens=600, as_of=AS_OF)
    )["citizens"]
    graduates = [cv for p, cv in citizens if p["newlyGraduated"]]
    assert graduates and all(cv["workHistory"] == [] for cv in graduates)
    same_minor = total = 0
    for _, cv in citizens:
        jobs = cv["workHistory"]
        assert len(jobs) <= 4
        for older, newer in zip(jobs[1:], jobs, strict=False):
            assert older["start"] < older["end"] <= newer["start"]  # no overlapping jobs
            total += 1
            same_minor += (
                occ[older["occupationId"]]["iscoCode"][:3]
                == occ[newer["occupationId"]]["iscoCode"][:3]
            )
    assert total and 0.5 < same_minor / total < 1.0  # mostly within a minor group, not only


def test_second_seed_changes_nothing(seeded):
    assert seeded["first"].counts == seeded["second"].counts
    db = seeded["db"]
    for name, docs in seeded["snapshot"].items():
        assert list(db[name].find().sort("_id", 1)) == docs
    assert db.postings.count_documents({}) == SPEC.postings + len(demo.DEMO_POSTING_OCCUPATIONS)


def test_referential_integrity(seeded):
    db = seeded["db"]
    occupations = {d["_id"] for d in db.occupations.find({}, {"_id": 1})}
    companies = {d["_id"] for d in db.companies.find({}, {"_id": 1})}
    citizens = {d["_id"] for d in db.citizens.find({}, {"_id": 1})}
    offers = {d["_id"] for d in db.offers.find({}, {"_id": 1})}
    groups = {d["_id"] for d in db.isco_groups.find({}, {"_id": 1})}
    assert len(occupations) == 2942 and len(groups) == 619
    for p in db.postings.find({}, {"occupationId": 1, "companyCvr": 1, "iscoCode": 1}):
        assert p["occupationId"] in occupations and p["companyCvr"] in companies
        assert p["iscoCode"] in groups
    for o in db.offers.find():
        assert o["companyCvr"] in companies
        assert set(o["targetOccupationIds"]) <= occupations
        assert all(s["capacity"] >= 1 and s["booked"] == 0 for s in o["slots"])
    for cv in db.cvs.find():
        assert cv["citizenId"] in citizens
        assert {j["occupationId"] for j in cv["workHistory"]} <= occupations
    for c in db.citizens.find({}, {"preferences": 1}):
        assert set(c["preferences"]["occupationIds"]) <= occupations
    for r in db.meeting_requests.find():
        assert r["offerId"] in offers and r["citizenId"] in citizens
    for g in db.isco_groups.find({"parent": {"$ne": None}}):
        assert g["parent"] in groups


def test_demo_accounts_exist(seeded):
    db = seeded["db"]
    citizen = db.citizens.find_one({"_id": demo.DEMO_CITIZEN_ID})
    assert citizen["town"] == "Aarhus C"
    cv = db.cvs.find_one({"citizenId": demo.DEMO_CITIZEN_ID, "primary": True})
    titles = [j["title"] for j in cv["workHistory"]]
    assert "Lagermedarbejder" in titles and "Truckfører" in titles
    employer = db.employers.find_one({"_id": demo.DEMO_EMPLOYER_ID})
    assert employer["cvr"] == demo.DEMO_COMPANY_CVR
    assert (
        db.companies.find_one({"_id": demo.DEMO_COMPANY_CVR})["industry"] == "Transport og logistik"
    )
    assert db.offers.count_documents({"companyCvr": demo.DEMO_COMPANY_CVR, "status": "OPEN"}) == 3
    assert db.meeting_requests.count_documents({"companyCvr": demo.DEMO_COMPANY_CVR}) == 8
    assert db.postings.count_documents({"companyCvr": demo.DEMO_COMPANY_CVR}) == 4


def test_evaluation_labels_follow_ground_truth(seeded):
    db, labels = seeded["db"], seeded["eval"]
    assert labels["citizens"]
    for entry in labels["citizens"][:40]:
        citizen = db.citizens.find_one({"_id": entry["citizenId"]})
        wanted = set(citizen["preferences"]["occupationIds"])
        units = {d["iscoCode"] for d in db.occupations.find({"_id": {"$in": list(wanted)}})}
        lon, lat = citizen["location"]["coordinates"]
        for pid, grade in entry["relevant"].items():
            p = db.postings.find_one({"_id": pid})
            assert p["iscoCode"] in units
            assert grade == (2 if p["occupationId"] in wanted else 1)
            plon, plat = p["location"]["coordinates"]
            assert haversine_km(lat, lon, plat, plon) <= citizen["preferences"]["radiusKm"]
            assert p["deadline"].date() >= AS_OF
