from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types import Info

from api.taxonomy.types import Occupation

from . import rules
from .repository import OfferDoc, SlotDoc

MeetingMode = strawberry.enum(rules.MeetingMode)
OfferStatus = strawberry.enum(
    rules.OfferStatus,
    description="OPEN: in decks. PAUSED: hidden, requests kept. CLOSED: ended.",
)


@strawberry.type(description="A time a company can meet, with its seats.")
class OfferSlot:
    id: strawberry.ID
    starts_at: datetime
    ends_at: datetime
    capacity: int
    booked: int

    @strawberry.field(description="Seats still free.")
    def free(self) -> int:
        return max(0, self.capacity - self.booked)

    @classmethod
    def from_doc(cls, s: SlotDoc) -> OfferSlot:
        return cls(
            id=strawberry.ID(s["_id"]),
            starts_at=s["startsAt"],
            ends_at=s["endsAt"],
            capacity=s["capacity"],
            booked=s["booked"],
        )


@strawberry.type(description="A coffee meeting (kaffemøde) a company offers.")
class CoffeeMeetingOffer:
    id: strawberry.ID
    title: str
    pitch: str
    company_name: str
    company_cvr: str
    mode: MeetingMode
    address: str | None
    postal_code: str | None
    town: str | None
    slots: list[OfferSlot]
    expires_at: datetime
    status: OfferStatus
    created_at: datetime
    target_occupation_ids: strawberry.Private[list[str]]

    @strawberry.field(description="The occupations the company is looking for.")
    async def target_occupations(self, info: Info) -> list[Occupation]:
        docs = await info.context.loaders.occupation_by_id.load_many(self.target_occupation_ids)
        return [Occupation.from_doc(d) for d in docs if d]

    @classmethod
    def from_doc(cls, o: OfferDoc) -> CoffeeMeetingOffer:
        return cls(
            id=strawberry.ID(o["_id"]),
            title=o["title"],
            pitch=o.get("pitch", ""),
            company_name=o.get("companyName", ""),
            company_cvr=o["companyCvr"],
            mode=MeetingMode(o.get("mode", MeetingMode.IN_PERSON)),
            address=o.get("address"),
            postal_code=o.get("postalCode"),
            town=o.get("town"),
            slots=[OfferSlot.from_doc(s) for s in o.get("slots", [])],
            expires_at=o["expiresAt"],
            status=OfferStatus(o.get("status", OfferStatus.OPEN)),
            created_at=o["createdAt"],
            target_occupation_ids=list(o.get("targetOccupationIds", [])),
        )


@strawberry.input
class OfferSlotInput:
    starts_at: datetime = strawberry.field(
        description="With a time zone offset; in the future, at most a year ahead."
    )
    duration_minutes: int = 25
    capacity: int = 1


@strawberry.input(description="An offer's content. Slots are given only when creating.")
class OfferInput:
    title: str
    pitch: str
    target_occupation_ids: list[strawberry.ID]
    mode: MeetingMode = MeetingMode.IN_PERSON
    address: str | None = None
    postal_code: str
    town: str | None = None
    video_url: str | None = strawberry.field(
        default=None, description="https link; shown only to accepted candidates."
    )
    expires_at: datetime | None = strawberry.field(
        default=None,
        description="In the future, with a time zone offset. Default, and latest: 12 hours "
        "before the last slot.",
    )
    slots: list[OfferSlotInput] = strawberry.field(default_factory=list)
