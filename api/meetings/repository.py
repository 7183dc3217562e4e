"""Coffee-meeting offers and meeting requests. One request per citizen and offer is enforced
by a unique index, so a repeated swipe can never create a second request."""

from __future__ import annotations

from store import collections as c
from store.indexes import IndexSpec

INDEXES: list[IndexSpec] = [
    IndexSpec(c.OFFERS, (("companyCvr", 1), ("status", 1)), "offers_company_status"),
    IndexSpec(c.OFFERS, (("status", 1), ("expiresAt", 1)), "offers_status_expiry"),
    IndexSpec(
        c.MEETING_REQUESTS,
        (("citizenId", 1), ("offerId", 1)),
        "meeting_requests_one_per_offer",
        unique=True,
    ),
    IndexSpec(
        c.MEETING_REQUESTS,
        (("offerId", 1), ("status", 1), ("createdAt", -1)),
        "meeting_requests_offer_status",
    ),
    IndexSpec(c.MEETING_REQUESTS, (("companyCvr", 1), ("status", 1)), "meeting_requests_company"),
]
