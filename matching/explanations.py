"""Why a job was suggested, in the citizen's language (Danish unless `en`).

Every sentence states only what holds for this citizen (the guide's rule 1; issue 14):

* which job in their CV or which of their job wishes the posting's occupation relates to, and
  how closely: the same occupation or ISCO unit group ("Foreslået pga. din erfaring som ...",
  "Du ønsker job som ..."), or the same minor group ("Beslægtet med ...", "I samme faggruppe
  som dit jobønske ..."),
* a job that relates only weakly is "Et nyt felt, du kan prøve": never dressed up as similar
  (semantic similarity orders suggestions but is never given as a reason),
* the occupation the posting is registered under, the distance (and, for a fitting job added
  from beyond the radius, that it lies beyond it),
* the posting's requirements the citizen meets and does not meet, matched on Danish word forms
  (``matching.danish``) and a few synonyms.

Without profiling nothing from the CV is used: the reasons name the wish matched, or say the job
fits the citizen's filters.
"""

from __future__ import annotations

from collections.abc import Mapping

from .danish import phrase_met
from .records import (
    FIT,
    NEAR,
    OUTSIDE,
    CitizenProfile,
    Explanation,
    HistoryItem,
    PostingRecord,
    RankedJob,
)

# Other ways to meet a requirement (lower case), each matched on word forms like the
# requirement itself. A licence of a heavier class includes the lighter ones.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "truckkørsel": ("truck", "gaffeltruck"),
    "kørekort b": ("kørekort c", "kørekort ce", "kørekort d", "kørekort de"),
    "kørekort c": ("kørekort ce",),
    "kørekort d": ("kørekort de",),
    "førstehjælp": ("hjerte-lunge",),
    "svejsning": ("svejser",),
    "forflytning": ("forflytningsvejleder",),
}


def citizen_terms(
    skills: list[str], courses: list[str], licences: list[str], experience: list[str] = ()
) -> set[str]:
    """What a requirement can be met by: skills, courses, driving licences and (``experience``)
    the titles of jobs held and the ESCO labels, preferred and alternative, of their
    occupations."""
    terms = {s.lower() for s in skills} | {c.lower() for c in courses}
    terms |= {f"kørekort {lic.lower()}" for lic in licences}
    terms |= {e.lower() for e in experience if e}
    return terms


def requirement_met(requirement: str, terms: set[str]) -> bool:
    req = requirement.lower().strip()
    if req in terms:
        return True
    phrases = (req, *SYNONYMS.get(req, ()))
    return any(phrase_met(phrase, term) for phrase in phrases for term in terms)


def _t(locale: str, da: str, en: str) -> str:
    return en if locale == "en" else da


def relation_rank(item_occupation: str | None, item_isco: str | None, p: PostingRecord) -> int:
    """0 same occupation, 1 same ISCO unit group, 2 same minor group, 3 weaker or unknown."""
    if item_occupation and item_occupation == p.occupation_id:
        return 0
    if not item_isco:
        return 3
    if item_isco == p.isco:
        return 1
    if item_isco[:3] == p.isco[:3]:
        return 2
    return 3


def _item(h: HistoryItem, locale: str) -> str:
    # In English the job is named by its occupation's English label (the title is Danish).
    title = (h.label_en or h.title) if locale == "en" else h.title
    if not h.employer:
        return title
    return _t(locale, f"{title} hos {h.employer}", f"{title} at {h.employer}")


def _lower_first(text: str) -> str:
    return f"{text[:1].lower()}{text[1:]}"


def distance_reason(locale: str, km: float, beyond_radius_km: float | None = None) -> str:
    if beyond_radius_km is not None:
        return _t(
            locale,
            f"{km:.0f} km fra din bopæl, uden for din radius på {beyond_radius_km:.0f} km.",
            f"{km:.0f} km from your home, beyond your radius of {beyond_radius_km:.0f} km.",
        )
    return _t(locale, f"{km:.0f} km fra din bopæl.", f"{km:.0f} km from your home.")


def _where(job: RankedJob, profile: CitizenProfile, loc: str) -> list[str]:
    km = job.components.get("distance_km")
    if km is None:
        return []
    return [
        distance_reason(loc, km, job.components.get("radius_km") if job.beyond_radius else None)
    ]


def _registered(loc: str, occ_label: str | None) -> list[str]:
    if not occ_label:
        return []
    return [
        _t(loc, f"Jobbet er registreret som {occ_label}.", f"The job is registered as {occ_label}.")
    ]


def _occupation_label(p: PostingRecord, labels: Mapping[str, tuple[str, str]], loc: str):
    pair = labels.get(p.occupation_id)
    return (pair[1] if loc == "en" else pair[0]) if pair else None


def explain(
    job: RankedJob, profile: CitizenProfile, occupation_labels: Mapping[str, tuple[str, str]]
) -> Explanation:
    """The explanation of a job ranked on the profile (profiling on)."""
    p: PostingRecord = job.posting
    loc = profile.locale
    occ_label = _occupation_label(p, occupation_labels, loc)
    reasons: list[str] = []
    matched: list[str] = []

    # The CV items that relate: jobs held in the same occupation or unit group first, then
    # the same minor group.
    best_rank = 3
    for h in profile.history:
        rank = relation_rank(h.occupation_id, h.isco, p)
        if rank > 2:
            continue
        if rank < best_rank:
            best_rank, matched = rank, [_item(h, loc)]
        elif rank == best_rank:
            matched.append(_item(h, loc))
    wish_fit, wish_near = _wishes_met(profile, p, occ_label)

    if matched and best_rank <= 1:
        reasons.append(
            _t(
                loc,
                f"Foreslået pga. din erfaring som {_lower_first(matched[0])}.",
                f"Suggested because of your experience as {matched[0]}.",
            )
        )
    if wish_fit:
        reasons.append(_t(loc, f"Du ønsker job som {wish_fit}.", f"You want work as {wish_fit}."))
        matched.append(_t(loc, f"Ønsket job: {wish_fit}", f"Wanted job: {wish_fit}"))
    if not reasons and matched:  # the same minor group as a job held
        reasons.append(
            _t(
                loc,
                f"Beslægtet med din erfaring som {_lower_first(matched[0])}.",
                f"Related to your experience as {matched[0]}.",
            )
        )
    if not reasons and wish_near:
        reasons.append(
            _t(
                loc,
                f"I samme faggruppe som dit jobønske: {wish_near}.",
                f"In the same field as your job wish: {wish_near}.",
            )
        )
    if job.fit == OUTSIDE or not reasons:
        # Only a weak relation to anything the citizen has done or wants.
        reasons = [_t(loc, "Et nyt felt, du kan prøve.", "A new field you could try.")]
        matched = []
    reasons += _registered(loc, occ_label) + _where(job, profile, loc)

    met = [s for s, _ in p.requirements if requirement_met(s, profile.terms)]
    missing = [s for s, required in p.requirements if required and s not in met]
    if met:
        reasons.append(
            _t(
                loc,
                f"Krav du opfylder: {', '.join(met)}.",
                f"Requirements you meet: {', '.join(met)}.",
            )
        )
    broadened_reason = None
    if job.broadened:
        if job.fit == NEAR:
            broadened_reason = _t(
                loc,
                "Bredere forslag: jobbet ligger i samme faggruppe som dit fag, men matcher ikke fuldt.",
                "Broader suggestion: in the same field as yours, but not a full match.",
            )
        else:
            broadened_reason = _t(
                loc,
                "Bredere forslag: et nyt felt, du kan prøve. Det ligger uden for dit fag.",
                "Broader suggestion: a new field you could try, outside your own.",
            )
    return Explanation(reasons[0], reasons, matched, occ_label, met, missing, broadened_reason)


PROFILING_OFF = (
    "CV-baserede forslag er slået fra; vist efter dine egne valg.",
    "CV-based suggestions are turned off; shown by your own choices.",
)
FILTERS_ONLY = (
    "Vist, fordi det passer til dine filtre. CV-baserede forslag er slået fra.",
    "Shown because it fits your filters. CV-based suggestions are turned off.",
)


def _wishes_met(
    profile: CitizenProfile, p: PostingRecord, occ_label: str | None
) -> tuple[str | None, str | None]:
    """The first wish the posting fits (same occupation or unit group) and the first it is near
    (same minor group), as the citizen named them."""
    wish_fit = wish_near = None
    for oid, unit in profile.wanted.items():
        rank = relation_rank(oid, unit, p)
        label = profile.wanted_labels.get(oid) or occ_label or p.title
        if rank <= 1 and wish_fit is None:
            wish_fit = label
        elif rank == 2 and wish_near is None:
            wish_near = label
    return wish_fit, wish_near


def explain_without_profiling(
    job: RankedJob, profile: CitizenProfile, occupation_labels: Mapping[str, tuple[str, str]]
) -> Explanation:
    """Profiling off: only the citizen's own choices (wishes, radius, hours, contract types,
    search). Nothing from the CV: no CV items, no requirements met or missing."""
    p, loc = job.posting, profile.locale
    occ_label = _occupation_label(p, occupation_labels, loc)
    wish_fit, wish_near = _wishes_met(profile, p, occ_label)
    if job.fit == FIT and wish_fit:
        reasons = [
            _t(loc, f"Du ønsker job som {wish_fit}.", f"You want work as {wish_fit}."),
            _t(loc, *PROFILING_OFF),
        ]
    elif job.fit == NEAR and wish_near:
        reasons = [
            _t(
                loc,
                f"I samme faggruppe som dit jobønske: {wish_near}.",
                f"In the same field as your job wish: {wish_near}.",
            ),
            _t(loc, *PROFILING_OFF),
        ]
    else:
        reasons = [_t(loc, *FILTERS_ONLY)]
    reasons += _registered(loc, occ_label) + _where(job, profile, loc)
    broadened_reason = None
    if job.broadened:
        broadened_reason = _t(
            loc,
            "Bredere forslag: jobbet ligger i samme faggruppe som dit jobønske, men er ikke det job, du ønsker.",
            "Broader suggestion: in the same field as your job wish, but not the job you wish for.",
        )
    return Explanation(reasons[0], reasons, [], occ_label, [], [], broadened_reason)


def explain_filter_only(p: PostingRecord, km: float, locale: str) -> Explanation:
    """Kept for callers that explain a plain filtered result."""
    text = _t(locale, *FILTERS_ONLY)
    return Explanation(text, [text, distance_reason(locale, km)])
