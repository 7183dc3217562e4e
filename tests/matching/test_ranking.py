"""Ranking rules on hand-made postings and vectors (no model needed): filters, the blend,
broadening, the field and the radius, opt-out, explanations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from matching.danish import phrase_met
from matching.explanations import citizen_terms, requirement_met
from matching.geoindex import GeoIndex
from matching.ranking import JobRanker, RankedCache
from matching.records import NEAR, OUTSIDE, CitizenProfile, Filters, HistoryItem, PostingRecord

NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)
AARHUS = (56.157, 10.211)
KOLDING = (55.490, 9.472)  # about 100 km from Aarhus
RANDERS = (56.461, 10.036)  # about 36 km from Aarhus
D = 8


def vec(*hot: int) -> np.ndarray:
    v = np.zeros(D, dtype=np.float32)
    v[list(hot)] = 1
    return v / np.linalg.norm(v)


def posting(
    pid,
    isco,
    occ,
    where=AARHUS,
    hours="FULL_TIME",
    days_old=1,
    deadline_days=20,
    reqs=(("truckkørsel", True), ("ADR", True), ("engelsk", False)),
    contract="PERMANENT",
):
    return PostingRecord(
        id=pid,
        title=f"Job {pid}",
        occupation_id=occ,
        isco=isco,
        lat=where[0],
        lon=where[1],
        hours=hours,
        deadline=NOW + timedelta(days=deadline_days),
        posted_at=NOW - timedelta(days=days_old),
        company_cvr="37741892",
        company_name="Østjysk Lager & Logistik ApS",
        town="Aarhus",
        requirements=reqs,
        contract_type=contract,
    )


def world(postings_and_vectors):
    records = {p.id: p for p, _ in postings_and_vectors}
    index = GeoIndex.build(
        list(records),
        np.vstack([v for _, v in postings_and_vectors]),
        [(p.lat, p.lon) for p, _ in postings_and_vectors],
    )
    labels = {
        "occ-hylde": ("varepåfylder", "shelf filler"),
        "occ-geo": ("geotekniker", "geotechnician"),
        "occ-lager": ("lagerarbejder", "warehouse worker"),
        "occ-truck": ("gaffeltruckfører", "forklift operator"),
        "occ-pluk": ("lagerekspedient", "warehouse order picker"),
        "occ-kok": ("kok", "cook"),
    }
    return JobRanker(index, records, labels)


def citizen(**kw) -> CitizenProfile:
    base = dict(
        id="c1",
        lat=AARHUS[0],
        lon=AARHUS[1],
        radius_km=30,
        hours="ANY",
        vector=vec(0, 1),
        wanted={"occ-lager": "9333"},
        wanted_labels={"occ-lager": "lagerarbejder"},
        history=[HistoryItem("occ-lager", "9333", "Lagermedarbejder", "Brabrand Fragt A/S")],
        terms={"truckcertifikat b", "kørekort b"},
    )
    base.update(kw)
    return CitizenProfile(**base)


def test_filters_radius_hours_deadline_and_exclusions():
    ranker = world(
        [
            (posting("near", "9333", "occ-lager"), vec(0, 1)),
            (posting("far", "9333", "occ-lager", where=KOLDING), vec(0, 1)),
            (posting("part", "9333", "occ-lager", hours="PART_TIME"), vec(0, 1)),
            (posting("expired", "9333", "occ-lager", deadline_days=-1), vec(0, 1)),
            (posting("applied", "9333", "occ-lager"), vec(0, 1)),
        ]
    )
    got = [j.posting.id for j in ranker.rank(citizen(hours="FULL_TIME", excluded={"applied"}), NOW)]
    assert got == ["near"]
    wider = ranker.rank(citizen(hours="FULL_TIME"), NOW, filters=Filters(radius_km=150))
    assert {j.posting.id for j in wider} == {"near", "far", "applied"}


def test_occupation_match_outranks_a_semantic_lookalike():
    ranker = world(
        [
            (posting("same-occupation", "9333", "occ-lager"), vec(0, 1, 2)),
            (posting("lookalike", "5120", "occ-kok"), vec(0, 1)),
        ]
    )
    ranked = ranker.rank(citizen(), NOW)
    assert ranked[0].posting.id == "same-occupation"
    assert ranked[0].components["occupation"] == 1.0


def test_fresher_and_nearer_win_ties():
    ranker = world(
        [
            (posting("old", "9333", "occ-lager", days_old=30), vec(0, 1)),
            (posting("new", "9333", "occ-lager", days_old=0), vec(0, 1)),
        ]
    )
    assert [j.posting.id for j in ranker.rank(citizen(), NOW)] == ["new", "old"]


def test_explanation_in_danish_and_english():
    ranker = world([(posting("p", "9333", "occ-lager"), vec(0, 1))])
    e = ranker.rank(citizen(), NOW)[0].explanation
    assert e.summary == "Foreslået pga. din erfaring som lagermedarbejder hos Brabrand Fragt A/S."
    assert "Du ønsker job som lagerarbejder." in e.reasons
    assert e.occupation_label == "lagerarbejder"
    assert e.requirements_met == ["truckkørsel"]  # via the forklift certificate
    assert e.requirements_missing == ["ADR"]
    en = ranker.rank(citizen(locale="en"), NOW)[0].explanation
    assert en.summary.startswith("Suggested because of your experience as Lagermedarbejder")
    assert en.occupation_label == "warehouse worker"


def test_broadening_only_when_few_full_matches_and_flagged():
    related = [(posting(f"rel{i}", "9334", f"occ-x{i}"), vec(3, 4)) for i in range(6)]
    few_full = world([(posting("full", "9333", "occ-lager"), vec(0, 1)), *related])
    ranked = few_full.rank(citizen(), NOW)
    assert ranked[0].posting.id == "full" and not ranked[0].broadened
    broadened = [j for j in ranked if j.broadened]
    assert len(broadened) == 6
    assert all(j.broadened_reason and "Bredere forslag" in j.broadened_reason for j in broadened)
    many_full = world(
        [*[(posting(f"full{i}", "9333", "occ-lager"), vec(0, 1)) for i in range(5)], *related]
    )
    assert not any(j.broadened for j in many_full.rank(citizen(), NOW))


def test_unrelated_jobs_are_never_suggested():
    ranker = world([(posting("chef", "5120", "occ-kok"), vec(6, 7))])
    assert ranker.rank(citizen(), NOW) == []


def test_profiling_off_follows_the_wishes_not_the_cv():
    """Issue 14: with profiling off a warehouse worker got university-lecturer posts. Off: the
    wished occupations filter and order (newest first), nothing from the CV explains; a
    search still finds jobs outside the wishes, after them."""
    ranker = world(
        [
            (posting("kantine", "5120", "occ-kok", days_old=3), vec(6)),
            (posting("lager", "9333", "occ-lager", days_old=1), vec(0)),
            (posting("lager-gammel", "9333", "occ-pluk", days_old=5), vec(0)),
            (posting("hylde", "9334", "occ-hylde", days_old=0), vec(0)),
            (posting("far", "9333", "occ-lager", where=KOLDING), vec(0)),
        ]
    )
    ranked = ranker.rank(citizen(vector=None, profiling=False), NOW)
    assert [j.posting.id for j in ranked] == ["lager", "lager-gammel", "hylde"]
    assert all(j.score == 0.0 and not j.explanation.matched_cv_items for j in ranked)
    assert all(not j.explanation.requirements_met for j in ranked)
    assert ranked[0].explanation.summary == "Du ønsker job som lagerarbejder."
    assert "CV-baserede forslag er slået fra" in ranked[0].explanation.reasons[1]
    assert ranked[2].broadened and ranked[2].fit == NEAR
    assert ranked[2].explanation.summary == "I samme faggruppe som dit jobønske: lagerarbejder."
    searched = ranker.rank(
        citizen(vector=None, profiling=False), NOW, filters=Filters(search="Job kantine")
    )
    assert [j.posting.id for j in searched] == ["kantine"]
    assert "CV-baserede forslag er slået fra" in searched[0].explanation.summary
    no_wishes = ranker.rank(citizen(vector=None, profiling=False, wanted={}), NOW)
    assert [j.posting.id for j in no_wishes] == ["hylde", "lager", "kantine", "lager-gammel"]


def test_a_semantic_lookalike_is_outside_the_field_and_after_the_fitting_jobs():
    """Issue 14: a bus driver's first suggestion was a geotechnician, and unrelated posts
    read "Opslaget minder om dit CV." without being flagged. Similar text alone is a new
    field: broadened, labelled, after every fitting and near job."""
    ranker = world(
        [
            (posting("geotekniker", "2114", "occ-geo", days_old=0), vec(0, 1)),  # sim 1.0
            (posting("lager", "9333", "occ-lager", days_old=9), vec(5)),  # sim 0
            (posting("hylde", "9334", "occ-hylde", days_old=9), vec(5)),  # same minor group
        ]
    )
    ranked = ranker.rank(citizen(), NOW)
    assert [j.posting.id for j in ranked] == ["lager", "hylde", "geotekniker"]
    geo = ranked[2]
    assert geo.broadened and geo.outside_field and geo.fit == OUTSIDE
    assert geo.explanation.summary == "Et nyt felt, du kan prøve."
    assert not geo.explanation.matched_cv_items
    assert "et nyt felt" in geo.broadened_reason
    assert not any("minder om dit CV" in r for j in ranked for r in j.explanation.reasons)
    hylde = ranked[1]
    assert hylde.broadened and not hylde.outside_field
    assert hylde.explanation.summary == (
        "Beslægtet med din erfaring som lagermedarbejder hos Brabrand Fragt A/S."
    )


def test_few_fitting_jobs_in_the_radius_add_the_nearest_beyond_it():
    """Fewer than five fitting jobs within the citizen's radius: the nearest fitting ones
    beyond it (up to twice the radius) are added after them, with their distance; a radius
    the query asked for is kept."""
    ranker = world(
        [
            (posting("inde", "9333", "occ-lager"), vec(0, 1)),
            (posting("randers", "9333", "occ-lager", where=RANDERS), vec(0, 1)),
            (posting("kolding", "9333", "occ-lager", where=KOLDING), vec(0, 1)),
            (posting("randers-kok", "5120", "occ-kok", where=RANDERS), vec(0, 1)),
        ]
    )
    ranked = ranker.rank(citizen(), NOW)
    assert [j.posting.id for j in ranked] == ["inde", "randers"]
    assert ranked.fitting_within_radius == 1 and ranked.radius_km == 30
    far = ranked[1]
    assert far.beyond_radius and not far.broadened and not ranked[0].beyond_radius
    assert ranked.reached_km == far.components["distance_km"] > 30
    km = round(far.components["distance_km"])
    assert f"{km} km fra din bopæl, uden for din radius på 30 km." in far.explanation.reasons
    asked = ranker.rank(citizen(), NOW, filters=Filters(radius_km=30))
    assert [j.posting.id for j in asked] == ["inde"] and asked.reached_km is None


def test_contract_type_wishes_filter():
    ranker = world(
        [
            (posting("fast", "9333", "occ-lager"), vec(0, 1)),
            (posting("vikar", "9333", "occ-lager", contract="SUBSTITUTE"), vec(0, 1)),
        ]
    )
    wished = frozenset({"PERMANENT", "TEMPORARY"})
    assert [j.posting.id for j in ranker.rank(citizen(contract_types=wished), NOW)] == ["fast"]
    assert len(ranker.rank(citizen(), NOW)) == 2  # no wish: any contract
    off = ranker.rank(citizen(vector=None, profiling=False, contract_types=wished), NOW)
    assert [j.posting.id for j in off] == ["fast"]


def test_feedback_moves_a_group_down():
    ranker = world(
        [
            (posting("lager", "9333", "occ-lager"), vec(0, 1)),
            (posting("truck", "8344", "occ-truck"), vec(0, 1)),
        ]
    )
    wanted = {"occ-lager": "9333", "occ-truck": "8344"}  # equally good otherwise
    no_lager = citizen(wanted=wanted, feedback={"9333": -1.0})
    no_truck = citizen(wanted=wanted, feedback={"8344": -1.0})
    assert ranker.rank(no_lager, NOW)[0].posting.id == "truck"
    assert ranker.rank(no_truck, NOW)[0].posting.id == "lager"


def test_requirement_synonyms():
    terms = {"truckcertifikat b", "kørekort ce", "hygiejnebevis"}
    assert requirement_met("truckkørsel", terms)
    assert requirement_met("kørekort C", terms)
    assert requirement_met("kørekort B", terms)
    assert requirement_met("hygiejne", terms)
    assert not requirement_met("svejsning", terms)
    assert not requirement_met("kørekort D", terms)


def test_requirements_are_met_on_danish_word_forms():
    """Issue 14: "Pluk og pak med scanner" did not meet "plukning med scanner"."""
    assert requirement_met("plukning med scanner", {"pluk og pak med scanner"})
    assert requirement_met("læsning og losning", {"læsse og losse"})
    assert requirement_met("pakning", {"pakke varer"})
    assert requirement_met("rengøring", {"erhvervsrengøring"})
    assert requirement_met("svejsning", {"svejser"})
    # Every word of the requirement must be met, and a part never meets the compound.
    assert not requirement_met("plukning med scanner", {"pluk og pak"})
    assert not requirement_met("madlavning", {"mad"})
    assert not requirement_met("kundekontakt", {"kundebetjening"})
    assert phrase_met("fysisk arbejde", "hårdt fysisk arbejde")


def test_esco_labels_of_jobs_held_meet_requirements():
    """The ESCO labels, preferred and alternative, of the occupations a citizen held count
    as what they know: "Ordreplukker" in the CV meets "lagerarbejde"."""
    terms = citizen_terms([], [], [], ["Ordreplukker", "lagerekspedient", "lagerarbejder"])
    assert requirement_met("lagerarbejde", terms)
    assert not requirement_met("lagerarbejde", citizen_terms([], [], [], ["Ordreplukker"]))


def test_ranked_cache_expires_evicts_forgets_and_switches_off(monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr("matching.ranking.time.monotonic", lambda: clock[0])
    cache = RankedCache(ttl_s=30, max_entries=2)
    cache.put("a", "k1", "ranked a")
    assert cache.get("a", "k1") == "ranked a"
    assert cache.get("a", "other key") is None and cache.get("b", "k1") is None
    clock[0] += 31
    assert cache.get("a", "k1") is None  # expired
    cache.put("a", "k1", 1)
    cache.put("a", "k2", 2)
    cache.put("b", "k1", 3)  # the oldest leaves: at most two kept
    assert cache.get("a", "k1") is None and len(cache) == 2
    cache.forget("a")  # the citizen's entries go at once
    assert cache.get("a", "k2") is None and cache.get("b", "k1") == 3
    off = RankedCache(ttl_s=0)
    off.put("a", "k", 1)
    assert off.get("a", "k") is None and len(off) == 0
