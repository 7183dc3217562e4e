from __future__ import annotations

import strawberry
from strawberry.types import Info

from api.auth.permissions import IsAuthenticated, IsEmployer
from api.inputs import plain

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
        doc = await service.visible_offer(info.context.db, info.context.require_actor(), str(id))
        return CoffeeMeetingOffer.from_doc(doc)


@strawberry.type
class OffersMutation:
    @strawberry.mutation(permission_classes=[IsEmployer], description="Publish a coffee meeting.")
    async def create_offer(self, info: Info, input: OfferInput) -> CoffeeMeetingOffer:
        doc = await service.create_offer(
            info.context.db, info.context.require_actor(), plain(input), info.context.engine
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
            info.context.db,
            info.context.require_actor(),
            str(id),
            plain(input),
            info.context.engine,
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
            info.context.db, info.context.require_actor(), str(id), OfferStatus.PAUSED
        )
        return CoffeeMeetingOffer.from_doc(doc)

    @strawberry.mutation(permission_classes=[IsEmployer], description="Show a paused offer again.")
    async def resume_offer(self, info: Info, id: strawberry.ID) -> CoffeeMeetingOffer:
        doc = await service.set_status(
            info.context.db, info.context.require_actor(), str(id), OfferStatus.OPEN
        )
        return CoffeeMeetingOffer.from_doc(doc)

    @strawberry.mutation(
        permission_classes=[IsEmployer],
        description="End an offer for good; unanswered requests are closed with a kind notice. "
        "Confirmed meetings stay.",
    )
    async def close_offer(self, info: Info, id: strawberry.ID) -> CoffeeMeetingOffer:
        doc = await service.set_status(
            info.context.db, info.context.require_actor(), str(id), OfferStatus.CLOSED
        )
        return CoffeeMeetingOffer.from_doc(doc)
