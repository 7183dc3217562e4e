from __future__ import annotations

import strawberry
from strawberry.types import Info

from api.auth.actor import Role
from api.auth.permissions import IsAuthenticated, IsEmployer
from api.inputs import plain
from api.meetings import repository

from . import service
from .types import CoffeeMeetingOffer, OfferInput, OfferSlotInput, OfferStatus


@strawberry.type
class OffersQuery:
    @strawberry.field(
        permission_classes=[IsEmployer], description="Your company's coffee-meeting offers."
    )
    async def my_offers(
        self, info: Info, status: list[OfferStatus] | None = None
    ) -> list[CoffeeMeetingOffer]:
        docs = await service.my_offers(
            info.context.db, info.context.require_actor(), [s.value for s in status or []]
        )
        return [CoffeeMeetingOffer.from_doc(d) for d in docs]

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="One offer: any open one for citizens, your own for employers.",
    )
    async def coffee_meeting_offer(self, info: Info, id: strawberry.ID) -> CoffeeMeetingOffer:
        actor = info.context.require_actor()
        doc = await repository.get_offer(info.context.db, str(id))
        visible = doc is not None and (
            doc["companyCvr"] == actor.cvr
            if actor.role is Role.EMPLOYER
            else doc.get("status") == "OPEN"
        )
        if not visible:
            from api.meetings.service import offer_not_found

            raise offer_not_found()
        return CoffeeMeetingOffer.from_doc(doc)


@strawberry.type
class OffersMutation:
    @strawberry.mutation(permission_classes=[IsEmployer], description="Publish a coffee meeting.")
    async def create_offer(self, info: Info, input: OfferInput) -> CoffeeMeetingOffer:
        doc = await service.create_offer(
            info.context.db, info.context.require_actor(), plain(input)
        )
        return CoffeeMeetingOffer.from_doc(doc)

    @strawberry.mutation(
        permission_classes=[IsEmployer],
        description="Change an offer's text, targets, place and expiry (slots: see addOfferSlots).",
    )
    async def update_offer(
        self, info: Info, id: strawberry.ID, input: OfferInput
    ) -> CoffeeMeetingOffer:
        doc = await service.update_offer(
            info.context.db, info.context.require_actor(), str(id), plain(input)
        )
        return CoffeeMeetingOffer.from_doc(doc)

    @strawberry.mutation(permission_classes=[IsEmployer], description="Add time slots.")
    async def add_offer_slots(
        self, info: Info, id: strawberry.ID, slots: list[OfferSlotInput]
    ) -> CoffeeMeetingOffer:
        doc = await service.add_slots(
            info.context.db, info.context.require_actor(), str(id), plain(slots)
        )
        return CoffeeMeetingOffer.from_doc(doc)

    @strawberry.mutation(
        permission_classes=[IsEmployer], description="Remove a slot nobody has booked."
    )
    async def remove_offer_slot(
        self, info: Info, id: strawberry.ID, slot_id: strawberry.ID
    ) -> CoffeeMeetingOffer:
        doc = await service.remove_slot(
            info.context.db, info.context.require_actor(), str(id), str(slot_id)
        )
        return CoffeeMeetingOffer.from_doc(doc)

    @strawberry.mutation(permission_classes=[IsEmployer], description="Hide from decks for now.")
    async def pause_offer(self, info: Info, id: strawberry.ID) -> CoffeeMeetingOffer:
        doc = await service.set_status(
            info.context.db, info.context.require_actor(), str(id), "PAUSED"
        )
        return CoffeeMeetingOffer.from_doc(doc)

    @strawberry.mutation(permission_classes=[IsEmployer], description="Show a paused offer again.")
    async def resume_offer(self, info: Info, id: strawberry.ID) -> CoffeeMeetingOffer:
        doc = await service.set_status(
            info.context.db, info.context.require_actor(), str(id), "OPEN"
        )
        return CoffeeMeetingOffer.from_doc(doc)

    @strawberry.mutation(
        permission_classes=[IsEmployer],
        description="End an offer for good; unanswered requests are closed with a kind notice. "
        "Confirmed meetings stay.",
    )
    async def close_offer(self, info: Info, id: strawberry.ID) -> CoffeeMeetingOffer:
        doc = await service.set_status(
            info.context.db, info.context.require_actor(), str(id), "CLOSED"
        )
        return CoffeeMeetingOffer.from_doc(doc)
