"""After anything that ends something (an erasure, a closed offer or posting, a cancelled
meeting), every screen of every role is opened again: each query in
`mobile_contract/operations/` (the list comes from the files, so a new screen is swept too),
for each account given, with the ids captured earlier in the journey. An answer may be an
error a client can act on (NOT_FOUND, FORBIDDEN, UNAUTHENTICATED ...), never an
INTERNAL_SERVER_ERROR."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from .ops import Api, operation_kind, operation_names

UNKNOWN = "e2e-unknown-id"  # for a role that has no id of that kind: NOT_FOUND is fine


@dataclass
class Ids:
    """Ids captured in a journey; each list is swept (an empty list sweeps UNKNOWN)."""

    postings: list[str] = field(default_factory=list)
    offers: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    meetings: list[str] = field(default_factory=list)
    cvs: list[str] = field(default_factory=list)
    occupations: list[str] = field(default_factory=list)

    @staticmethod
    def each(values: list[str]) -> list[str]:
        return list(dict.fromkeys(values)) or [UNKNOWN]


def _one(key: str, values: Callable[[Ids], list[str]]) -> Callable[[Ids], list[dict]]:
    return lambda ids: [{key: v} for v in Ids.each(values(ids))]


def _none(ids: Ids) -> list[dict]:
    return [{}]


# The variables of each screen (query operation). A query file that is not here fails the sweep,
# so a new screen needs its entry (and so its ids) before it ships.
SCREENS: dict[str, Callable[[Ids], list[dict]]] = {
    "Viewer": _none,
    "MyProfile": _none,
    "MyCvs": _none,
    "Cv": _one("id", lambda i: i.cvs),
    "ConsentHistory": _none,
    "JobApplications": _none,
    "SavedJobs": _none,
    "MyData": _none,
    "ExportMyData": _none,
    "CvViews": _none,
    "RecommendedJobs": lambda ids: [{"first": 50}],
    "JobPostingDetail": _one("id", lambda i: i.postings),
    "SwipeDeck": lambda ids: [{"first": 50}],
    "MyMeetingRequests": lambda ids: [{}, {"status": ["WITHDRAWN", "DECLINED", "EXPIRED"]}],
    "MeetingRequest": _one("id", lambda i: i.requests),
    "Meetings": lambda ids: [{}, {"status": ["CANCELLED"]}],
    "Meeting": _one("id", lambda i: i.meetings),
    "MeetingRequests": lambda ids: [
        {"offerId": o, **s}
        for o in Ids.each(ids.offers)
        for s in ({}, {"status": ["WITHDRAWN", "DECLINED", "EXPIRED", "ACCEPTED"]})
    ],
    # A logged read (it writes a CV view and marks a pending request SEEN): swept all the same,
    # as an employer opening a push's deep link after the fact would.
    "MeetingRequestCandidate": _one("requestId", lambda i: i.requests),
    "MyOffers": lambda ids: [{}, {"status": ["CLOSED"]}],
    "CoffeeMeetingOffer": _one("id", lambda i: i.offers),
    "MyCompany": _none,
    "MyJobPostings": lambda ids: [{}, {"status": ["CLOSED", "EXPIRED"]}],
    "MyDevices": _none,
    "NotificationPreferences": _none,
    "Notifications": lambda ids: [{}, {"unreadOnly": True}],
    "JobAgent": _none,
    "JobAgentAlerts": _none,
    "Occupation": _one("id", lambda i: i.occupations),
    "OccupationTypeahead": lambda ids: [{"search": "lager"}],
    "NormalizeTitle": lambda ids: [{"text": "truckfører"}],
    "IscoGroups": _none,
    "IscoGroupOccupations": lambda ids: [{"code": "9333"}],
}


def screens() -> list[str]:
    return [n for n in operation_names() if operation_kind(n) == "query"]


async def sweep(api: Api, accounts: Sequence[tuple[str, str]], ids: Ids, after: str) -> int:
    """Opens every screen for every account (the accounts side by side, as their phones
    would); fails listing each INTERNAL_SERVER_ERROR with its request id, to find it in the
    server log. Returns how many operations were sent."""
    missing = [n for n in screens() if n not in SCREENS]
    assert not missing, f"screens with no sweep entry in tests/e2e/sweep.py: {missing}"

    async def one_account(role: str, token: str) -> tuple[int, list[str]]:
        sent, broken = 0, []
        for name in screens():
            for variables in SCREENS[name](ids):
                result = await api.run(name, token, variables)
                sent += 1
                broken += [
                    f"{role} {name}({variables}): {e.get('message')} {e.get('extensions')}"
                    for e in result.internal_errors()
                ]
        return sent, broken

    answers = await asyncio.gather(*(one_account(role, token) for role, token in accounts))
    broken = [line for _, lines in answers for line in lines]
    assert not broken, f"after {after}, screens that broke:\n" + "\n".join(broken)
    return sum(n for n, _ in answers)
