"""The reason audit (issue 14): for every seeded citizen of the matching world, every sentence
a job suggestion or a deck card states is checked against that citizen's CV and wishes, read
from the database and related here with their own rules (the taxonomy's occupation ids and
ISCO codes, the citizen's place and radius), not with the explanation code's.

A sentence no rule below recognises counts as untrue. Reported (``-s``): the share of true
reasons, which must be 100 %, and the share of the top three deck cards that are on the
citizen's field (occupation relation at least the ISCO minor group) for citizens who have such
offers in reach. Then the same with profiling turned off for everyone: no reason may rest on
the CV then.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field

from api.auth.actor import Actor, Role
from api.jobs import service as jobs
from api.meetings import deck
from matching.explanations import citizen_terms, requirement_met
from matching.geo import haversine_km
from matching.records import Filters
from store import collections as c
from store.client import Store

PAGE = 50


def rank(a_occupation: str | None, a_isco: str | None, b_occupation: str, b_isco: str) -> int:
    """0 same occupation, 1 same ISCO unit, 2 same minor group, 3 weaker."""
    if a_occupation and a_occupation == b_occupation:
        return 0
    if not a_isco:
        return 3
    if a_isco == b_isco:
        return 1
    return 2 if a_isco[:3] == b_isco[:3] else 3


@dataclass
class Audit:
    stated: int = 0
    untrue: list[str] = field(default_factory=list)
    field_cards: int = 0  # top-3 cards on the field, where such offers are in reach
    field_slots: int = 0  # top-3 places that such cards could take

    def check(self, ok: bool, what: str) -> None:
        self.stated += 1
        if not ok:
            self.untrue.append(what)


@dataclass
class Citizen:
    doc: dict
    cv: dict
    occupations: dict  # id -> taxonomy doc

    @property
    def locale(self) -> str:
        return self.doc.get("locale", "da")

    @property
    def profiling(self) -> bool:
        return self.doc.get("consents", {}).get("profiling", True)

    def label(self, oid: str) -> str:
        o = self.occupations[oid]
        return o["labelEn"] if self.locale == "en" else o["labelDa"]

    def jobs(self) -> list[dict]:
        out = []
        for j in self.cv.get("workHistory", []):
            occ = self.occupations.get(j.get("occupationId"), {})
            out.append({**j, "isco": occ.get("iscoCode"), "labelEn": occ.get("labelEn")})
        return out

    def wishes(self) -> list[tuple[str, str, str]]:
        return [
            (o, self.occupations[o]["iscoCode"], self.label(o))
            for o in self.doc["preferences"].get("occupationIds", [])
            if o in self.occupations
        ]

    def km_to(self, point: dict) -> float:
        lon, lat = self.doc["location"]["coordinates"]
        plon, plat = point["coordinates"]
        return haversine_km(lat, lon, plat, plon)

    def terms(self) -> set[str]:
        experience = []
        for j in self.jobs():
            experience.append(j["title"])
            occ = self.occupations.get(j.get("occupationId"))
            if occ:
                experience += [occ["labelDa"], *occ.get("altLabelsDa", [])]
        return citizen_terms(
            self.cv.get("skills", []),
            self.cv.get("courses", []),
            self.cv.get("drivingLicences", []),
            experience,
        )


def _title(job: dict, en: bool) -> str:
    """How a job held is named: the citizen's own title; in English the occupation's English
    label when the job has an occupation (the titles are Danish)."""
    return (job.get("labelEn") or job["title"]) if en else job["title"]


def _item(job: dict, en: bool) -> str:
    if not job.get("employer"):
        return _title(job, en)
    return f"{_title(job, en)} {'at' if en else 'hos'} {job['employer']}"


def _lower_first(text: str) -> str:
    return f"{text[:1].lower()}{text[1:]}"


# --- job suggestions ------------------------------------------------------------------------
def audit_suggestion(audit: Audit, who: Citizen, posting: dict, job, place: str) -> None:
    en = who.locale == "en"
    p_occ, p_isco = posting["occupationId"], posting["iscoCode"]
    km = who.km_to(posting["location"])
    radius = float(who.doc["preferences"].get("radiusKm", 30))
    history = who.jobs() if who.profiling else []
    best_wish = min((rank(o, u, p_occ, p_isco) for o, u, _ in who.wishes()), default=3)
    best_job = min((rank(j.get("occupationId"), j["isco"], p_occ, p_isco) for j in history),
                   default=3)  # fmt: skip
    best = min(best_wish, best_job)
    e = job.explanation

    # The flags say what the relation is.
    audit.check(job.outside_field == (best >= 3 and who.profiling), f"{place}: outsideField")
    if who.profiling or who.wishes():
        audit.check(job.broadened == (best == 2 or best >= 3), f"{place}: broadened flag")
    audit.check(job.beyond_radius == (km > radius + 0.05), f"{place}: beyondRadius flag")
    if job.broadened:
        audit.check(bool(job.broadened_reason), f"{place}: broadened without its reason")
    if not who.profiling:
        audit.check(not e.matched_cv_items and not e.requirements_met, f"{place}: CV used")
        audit.check(job.score == 0.0, f"{place}: scored without profiling")

    for sentence in e.reasons:
        what = f"{place}: {sentence!r}"
        if m := re.fullmatch(r"Foreslået pga\. din erfaring som (.+)\.", sentence) or re.fullmatch(
            r"Suggested because of your experience as (.+)\.", sentence
        ):
            ok = any(
                (_item(j, en) if en else _lower_first(_item(j, en))) == m[1]
                and rank(j.get("occupationId"), j["isco"], p_occ, p_isco) <= 1
                for j in history
            )
        elif m := re.fullmatch(r"Beslægtet med din erfaring som (.+)\.", sentence) or re.fullmatch(
            r"Related to your experience as (.+)\.", sentence
        ):
            ok = any(
                (_item(j, en) if en else _lower_first(_item(j, en))) == m[1]
                and rank(j.get("occupationId"), j["isco"], p_occ, p_isco) <= 2
                for j in history
            )
        elif m := re.fullmatch(r"Du ønsker job som (.+)\.", sentence) or re.fullmatch(
            r"You want work as (.+)\.", sentence
        ):
            ok = any(lbl == m[1] and rank(o, u, p_occ, p_isco) <= 1 for o, u, lbl in who.wishes())
        elif m := re.fullmatch(r"I samme faggruppe som dit jobønske: (.+)\.", sentence) or (
            re.fullmatch(r"In the same field as your job wish: (.+)\.", sentence)
        ):
            ok = any(lbl == m[1] and rank(o, u, p_occ, p_isco) <= 2 for o, u, lbl in who.wishes())
        elif sentence in ("Et nyt felt, du kan prøve.", "A new field you could try."):
            ok = who.profiling and best >= 3
        elif m := re.fullmatch(r"Jobbet er registreret som (.+)\.", sentence) or re.fullmatch(
            r"The job is registered as (.+)\.", sentence
        ):
            ok = m[1] == who.label(p_occ)
        elif m := re.fullmatch(r"(\d+) km (?:fra din bopæl|from your home)\.", sentence):
            ok = abs(km - int(m[1])) <= 0.51 and km <= radius + 0.05
        elif m := re.fullmatch(
            r"(\d+) km fra din bopæl, uden for din radius på (\d+) km\.", sentence
        ) or re.fullmatch(r"(\d+) km from your home, beyond your radius of (\d+) km\.", sentence):
            ok = abs(km - int(m[1])) <= 0.51 and int(m[2]) == round(radius) and km > radius
        elif m := re.fullmatch(r"(?:Krav du opfylder|Requirements you meet): (.+)\.", sentence):
            terms = who.terms()
            required = {r["skill"] for r in posting.get("requirements", [])}
            met = m[1].split(", ")
            ok = who.profiling and all(r in required and requirement_met(r, terms) for r in met)
        elif sentence in (
            "Vist, fordi det passer til dine filtre. CV-baserede forslag er slået fra.",
            "Shown because it fits your filters. CV-based suggestions are turned off.",
            "CV-baserede forslag er slået fra; vist efter dine egne valg.",
            "CV-based suggestions are turned off; shown by your own choices.",
        ):
            ok = not who.profiling
        else:
            ok = False  # a claim no rule knows
        audit.check(ok, what)
    # The requirements lists: met ones are met, missing ones are required and not met.
    if who.profiling:
        terms = who.terms()
        for r in posting.get("requirements", []):
            met = requirement_met(r["skill"], terms)
            audit.check((r["skill"] in e.requirements_met) == met, f"{place}: met {r['skill']}")
            if r["required"]:
                audit.check(
                    (r["skill"] in e.requirements_missing) == (not met),
                    f"{place}: missing {r['skill']}",
                )
    # The citizen's own filters hold for every job.
    prefs = who.doc["preferences"]
    if prefs.get("hours", "ANY") != "ANY":
        audit.check(posting["hours"] == prefs["hours"], f"{place}: hours")
    if prefs.get("contractTypes"):
        audit.check(posting["contractType"] in prefs["contractTypes"], f"{place}: contract")


def audit_order(audit: Audit, ranked, place: str) -> None:
    """Fitting jobs first (beyond the radius after those within it), broadened ones after,
    those outside the field last."""
    tiers = [(2 if j.outside_field else 1 if j.broadened else 0) for j in ranked]
    audit.check(tiers == sorted(tiers), f"{place}: order {tiers}")
    fitting = [j.beyond_radius for j in ranked if not j.broadened]
    audit.check(fitting == sorted(fitting), f"{place}: beyond-radius order")


# --- deck cards -----------------------------------------------------------------------------
def _relation_to(pairs, targets: dict) -> float:
    out = 0.0
    for oid, unit in pairs:
        for t, t_unit in targets.items():
            out = max(out, {0: 1.0, 1: 0.6, 2: 0.3}.get(rank(oid, unit, t, t_unit), 0.0))
    return out


def _targets(who: Citizen, offer: dict) -> dict:
    return {t: who.occupations[t]["iscoCode"] for t in offer["targetOccupationIds"]
            if t in who.occupations}  # fmt: skip


def offer_relation(who: Citizen, offer: dict) -> tuple[float, float]:
    """(best relation to a job held, best relation to a wish): 1, 0.6, 0.3 or 0."""
    targets = _targets(who, offer)
    history = [(j.get("occupationId"), j["isco"]) for j in who.jobs()] if who.profiling else []
    return _relation_to(history, targets), _relation_to(
        [(o, u) for o, u, _ in who.wishes()], targets
    )


def audit_card(audit: Audit, who: Citizen, offer: dict, card, place: str) -> None:
    m = re.fullmatch(r"(.+) \((.+)\)\.", card.reason)
    if m is None:
        audit.check(False, f"{place}: {card.reason!r}")
        return
    first, where = m[1], m[2]
    by_history, by_wish = offer_relation(who, offer)
    targets = _targets(who, offer)
    history = who.jobs() if who.profiling else []
    wish_labels = {lbl.lower() for _, _, lbl in who.wishes()}
    if r := re.fullmatch(r"(Passer til|Tæt på) din erfaring som (.+)", first) or re.fullmatch(
        r"(Fits|Close to) your experience as (.+)", first
    ):
        need = 0.6 if r[1] in ("Passer til", "Fits") else 0.3
        ok = any(
            _title(j, who.locale == "en").lower() == r[2]
            and _relation_to([(j.get("occupationId"), j["isco"])], targets) >= need
            for j in history
        )
    elif r := re.fullmatch(r"(Passer til|Tæt på) dit jobønske: (.+)", first) or re.fullmatch(
        r"(Fits|Close to) your job wish: (.+)", first
    ):
        need = 0.6 if r[1] in ("Passer til", "Fits") else 0.3
        ok = r[2] in wish_labels and by_wish >= need
    elif first in ("Et nyt felt, du kan prøve", "A new field you could try"):
        ok = who.profiling and max(by_history, by_wish) < 0.3
    elif first in (
        "Et kaffemøde inden for dine valg; CV-match er slået fra",
        "A coffee meeting within your choices; CV matching is off",
    ):
        ok = not who.profiling and by_wish < 0.3
    else:
        ok = False
    audit.check(ok, f"{place}: {first!r}")
    audit.check(card.on_field == (max(by_history, by_wish) >= 0.3), f"{place}: on_field")
    radius = float(who.doc["preferences"].get("radiusKm", 30))
    if where in ("video, ingen transport", "video, no travel"):
        ok = offer.get("mode") == "VIDEO"
    elif k := re.fullmatch(r"(\d+) km (?:fra dig|from you)", where):
        km = who.km_to(offer["location"])
        ok = offer.get("mode") != "VIDEO" and abs(km - int(k[1])) <= 0.51 and km <= radius
    else:
        ok = False
    audit.check(ok, f"{place}: {where!r}")


async def run_audit(db, engine) -> Audit:
    audit = Audit()
    occupations = {o["_id"]: o async for o in db[c.OCCUPATIONS].find({})}
    postings = {p["_id"]: p async for p in db[c.POSTINGS].find({})}
    offers = {o["_id"]: o async for o in db[c.OFFERS].find({})}
    cvs = {cv["citizenId"]: cv async for cv in db[c.CVS].find({"primary": True})}
    citizens = await db[c.CITIZENS].find({}).sort("_id", 1).to_list()
    for doc in citizens:
        who = Citizen(doc, cvs.get(doc["_id"], {}), occupations)
        actor = Actor(doc["_id"], Role.CITIZEN)
        ranked, _, _, _ = await jobs.recommended_jobs(
            db, engine, actor, offset=0, first=PAGE, filters=Filters(), locale=who.locale
        )
        for i, job in enumerate(ranked):
            place = f"{doc['_id']} job {i + 1} {job.posting.title}"
            audit_suggestion(audit, who, postings[job.posting.id], job, place)
        audit_order(audit, ranked, doc["_id"])
        cards = await deck.swipe_deck(db, engine, actor, PAGE, who.locale)
        for i, (offer, card) in enumerate(cards):
            audit_card(audit, who, offers[offer["_id"]], card, f"{doc['_id']} card {i + 1}")
        on_field = [max(offer_relation(who, offer)) >= 0.3 for offer, _ in cards]
        slots = min(3, sum(on_field))
        if slots:  # offers on the field are in reach: they must lead
            audit.field_slots += slots
            audit.field_cards += sum(on_field[:3])
    return audit


def _report(title: str, audit: Audit) -> None:
    true = audit.stated - len(audit.untrue)
    share = audit.field_cards / audit.field_slots if audit.field_slots else float("nan")
    print(
        f"\n{title}: {true} of {audit.stated} stated reasons true "
        f"({100 * true / max(audit.stated, 1):.1f} %); top-3 deck cards on the citizen's field "
        f"where such offers are in reach: {audit.field_cards} of {audit.field_slots} "
        f"({100 * share:.1f} %)"
    )


def _audit(matching_world, profiling_off: bool) -> Audit:
    engine = matching_world["engine"]

    async def scenario():
        store = Store(matching_world["uri"], matching_world["name"])
        db = store.db
        before = {}
        try:
            if profiling_off:
                async for d in db[c.CITIZENS].find({}, {"consents": 1}):
                    before[d["_id"]] = d["consents"].get("profiling", True)
                await db[c.CITIZENS].update_many({}, {"$set": {"consents.profiling": False}})
            return await run_audit(db, engine)
        finally:
            for cid, value in before.items():
                await db[c.CITIZENS].update_one(
                    {"_id": cid}, {"$set": {"consents.profiling": value}}
                )
            await store.close()

    return asyncio.run(scenario())


def test_every_stated_reason_is_true_and_the_deck_leads_with_the_field(matching_world):
    audit = _audit(matching_world, profiling_off=False)
    _report("reason audit", audit)
    assert audit.stated > 5000 and audit.field_slots > 20  # the world has substance
    assert not audit.untrue, audit.untrue[:10]
    assert audit.field_cards == audit.field_slots


def test_with_profiling_off_no_reason_rests_on_the_cv(matching_world):
    audit = _audit(matching_world, profiling_off=True)
    _report("reason audit, profiling off", audit)
    assert audit.stated > 1000
    assert not audit.untrue, audit.untrue[:10]
    assert audit.field_cards == audit.field_slots
