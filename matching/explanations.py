"""Why a job was suggested, in the citizen's language (Danish unless `en`).

Each explanation names the CV items that drove the suggestion, the occupation the posting is
registered under, and the posting's requirements the citizen meets and does not meet.
"""

from __future__ import annotations

from collections.abc import Mapping

from .records import CitizenProfile, Explanation, PostingRecord, RankedJob

# A requirement counts as met when the citizen's skills, courses or licences contain one of
# these stems (lower case).
SYNONYMS: dict[str, tuple[str, ...]] = {
    "truckkørsel": ("truck", "gaffeltruck"),
    "kørekort c": ("kørekort c",),
    "kørekort ce": ("kørekort ce",),
    "adr": ("adr",),
    "hygiejne": ("hygiejne",),
    "førstehjælp": ("førstehjælp", "hjerte-lunge"),
    "excel": ("excel",),
    "svejsning": ("svejs",),
    "plc": ("plc",),
    "cnc": ("cnc",),
    "forflytning": ("forflytning",),
}


def citizen_terms(skills: list[str], courses: list[str], licences: list[str]) -> set[str]:
    terms = {s.lower() for s in skills} | {c.lower() for c in courses}
    terms |= {f"kørekort {lic.lower()}" for lic in licences}
    return terms


def requirement_met(requirement: str, terms: set[str]) -> bool:
    req = requirement.lower()
    if req in terms:
        return True
    stems = SYNONYMS.get(req, (req,))
    return any(stem in term for stem in stems for term in terms)


def _t(locale: str, da: str, en: str) -> str:
    return en if locale == "en" else da


def explain(
    job: RankedJob, profile: CitizenProfile, occupation_labels: Mapping[str, tuple[str, str]]
) -> Explanation:
    p: PostingRecord = job.posting
    loc = profile.locale
    label_pair = occupation_labels.get(p.occupation_id)
    occ_label = (label_pair[1] if loc == "en" else label_pair[0]) if label_pair else None
    reasons: list[str] = []
    matched: list[str] = []

    # The CV items that drove it: jobs held in the same occupation, unit or minor group first.
    best_rank = None
    for h in profile.history:
        if not h.isco:
            continue
        rank = (
            0
            if h.occupation_id == p.occupation_id
            else 1
            if h.isco == p.isco
            else 2
            if h.isco[:3] == p.isco[:3]
            else None
        )
        if rank is None:
            continue
        item = f"{h.title} hos {h.employer}" if h.employer else h.title
        if best_rank is None or rank < best_rank:
            best_rank, matched = rank, [item]
        elif rank == best_rank:
            matched.append(item)
    if matched and best_rank is not None and best_rank <= 1:
        reasons.append(
            _t(
                loc,
                f"Foreslået pga. din erfaring som {matched[0].lower()[:1]}{matched[0][1:]}.",
                f"Suggested because of your experience as {matched[0]}.",
            )
        )
    elif matched:
        reasons.append(
            _t(
                loc,
                f"Beslægtet med din erfaring som {matched[0]}.",
                f"Related to your experience as {matched[0]}.",
            )
        )
    for oid, unit in profile.wanted.items():
        if oid == p.occupation_id or unit == p.isco:
            wanted = profile.wanted_labels.get(oid, occ_label or p.title)
            reasons.append(_t(loc, f"Du ønsker job som {wanted}.", f"You want work as {wanted}."))
            matched.append(_t(loc, f"Ønsket job: {wanted}", f"Wanted job: {wanted}"))
            break
    if not reasons:
        reasons.append(_t(loc, "Opslaget minder om dit CV.", "The posting resembles your CV."))
    if occ_label:
        reasons.append(
            _t(
                loc,
                f"Jobbet er registreret som {occ_label}.",
                f"The job is registered as {occ_label}.",
            )
        )
    km = job.components.get("distance_km")
    if km is not None:
        reasons.append(_t(loc, f"{km:.0f} km fra din bopæl.", f"{km:.0f} km from your home."))

    met = [s for s, _ in p.requirements if requirement_met(s, profile.terms)]
    missing = [s for s, required in p.requirements if required and s not in met]
    broadened_reason = None
    if job.broadened:
        broadened_reason = _t(
            loc,
            "Bredere forslag: jobbet ligger tæt på dine fag, men matcher ikke fuldt.",
            "Broader suggestion: close to your field, but not a full match.",
        )
    summary = reasons[0]
    return Explanation(summary, reasons, matched, occ_label, met, missing, broadened_reason)


def explain_filter_only(p: PostingRecord, km: float, locale: str) -> Explanation:
    text = _t(
        locale,
        "Vist, fordi det passer til dine filtre. CV-baserede forslag er slået fra.",
        "Shown because it fits your filters. CV-based suggestions are turned off.",
    )
    return Explanation(
        text, [text, _t(locale, f"{km:.0f} km fra din bopæl.", f"{km:.0f} km from your home.")]
    )
