"""The rules of a coffee-meeting offer that other features share: its states and modes, when it
takes requests, which slots are free, and the error for an unknown one. No I/O."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any

from core.errors import NotFound


class OfferStatus(StrEnum):
    OPEN = "OPEN"
    PAUSED = "PAUSED"
    CLOSED = "CLOSED"


class MeetingMode(StrEnum):
    IN_PERSON = "IN_PERSON"
    VIDEO = "VIDEO"


# Which states an offer may be set to from which; anything else answers CONFLICT.
STATUS_FROM: dict[OfferStatus, tuple[OfferStatus, ...]] = {
    OfferStatus.PAUSED: (OfferStatus.OPEN,),
    OfferStatus.OPEN: (OfferStatus.PAUSED,),
    OfferStatus.CLOSED: (OfferStatus.OPEN, OfferStatus.PAUSED),
}


def offer_not_found() -> NotFound:
    return NotFound("Kaffemødet findes ikke.", "The coffee meeting does not exist.")


# Offers are taken as plain mappings (``repository.OfferDoc``): the repository builds on these
# rules, not the other way round.
def free_future_slots(offer: Mapping[str, Any], now: datetime) -> list[dict]:
    return [
        s for s in offer.get("slots", []) if s["startsAt"] > now and s["booked"] < s["capacity"]
    ]


def is_open(offer: Mapping[str, Any], now: datetime) -> bool:
    """Takes requests: open, not expired, and a free seat ahead."""
    return (
        offer.get("status") == OfferStatus.OPEN
        and offer["expiresAt"] > now
        and bool(free_future_slots(offer, now))
    )
