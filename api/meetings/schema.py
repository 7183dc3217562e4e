from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from datetime import UTC, datetime

import strawberry
from strawberry.types import Info

from api import live
from api.auth.actor import Role
from api.auth.permissions import IsCitizen, IsCitizenOrEmployer, IsEmployer
from api.offers.types import CoffeeMeetingOffer
from api.pagination import PageInfo, check_first, decode_cursor, encode_cursor
from core.errors import BadUserInput

from . import candidate, deck, lifecycle, repository, requests, swipes
from .types import (
    Candidate,
    DeclineReason,
    IncomingMeetingRequest,
    IncomingMeetingRequestConnection,
    IncomingMeetingRequestEdge,
    Meeting,
    MeetingOutcome,
    MeetingRequest,
    MeetingRequestStatus,
    MeetingStatus,
    MeetingUpdate,
    Swipe,
    SwipeCard,
    SwipeDecision,
    SwipeReason,
    UpdateKind,
)


def _offset(after: str | None) -> int:
    key = decode_cursor(after)
    if key is None:
        return 0
    if len(key) != 1 or not isinstance(key[0], int) or key[0] < 0:
        raise BadUserInput("Ugyldig cursor (after).", "Invalid cursor (after).")
    return key[0] + 1


@strawberry.type
class MeetingsQuery:
    @strawberry.field(
        permission_classes=[IsCitizen],
        description=(
            "Coffee-meeting cards to swipe: open offers with a free seat ahead, not answered "
            "yet, not from blocked companies, within the radius (video anywhere). Ordered by "
            "fit with a daily weighted shuffle, so strong matches lead but the same companies "
            "do not always take the top. Each card says why it is shown."
        ),
    )
    async def swipe_deck(self, info: Info, first: int = 10) -> list[SwipeCard]:
        check_first(first)
        ctx = info.context
        cards = await deck.swipe_deck(ctx.db, ctx.engine, ctx.require_actor(), first, ctx.locale)
        return [
            SwipeCard(
                offer=CoffeeMeetingOffer.from_doc(offer),
                reason=card.reason,
                fit=card.fit,
                distance_km=card.distance_km,
            )
            for offer, card in cards
        ]

    @strawberry.field(
        permission_classes=[IsCitizen], description="The citizen's meeting requests, newest first."
    )
    async def my_meeting_requests(
        self, info: Info, status: list[MeetingRequestStatus] | None = None
    ) -> list[MeetingRequest]:
        docs = await requests.my_requests(
            info.context.db, info.context.require_actor(), [s.value for s in status or []]
        )
        return [MeetingRequest.from_doc(d) for d in docs]

    @strawberry.field(
        permission_classes=[IsCitizenOrEmployer],
        description="Confirmed meetings: the citizen's own, or the company's.",
    )
    async def meetings(
        self, info: Info, status: list[MeetingStatus] | None = None
    ) -> list[Meeting]:
        docs = await lifecycle.my_meetings(
            info.context.db, info.context.require_actor(), [s.value for s in status or []]
        )
        return [Meeting.from_doc(d) for d in docs]

    @strawberry.field(permission_classes=[IsCitizenOrEmployer], description="One meeting.")
    async def meeting(self, info: Info, id: strawberry.ID) -> Meeting:
        doc = await lifecycle.get_meeting(info.context.db, info.context.require_actor(), str(id))
        return Meeting.from_doc(doc)

    @strawberry.field(
        permission_classes=[IsEmployer],
        description=(
            "Requests to one of your company's offers, best fit first; candidates are shown as "
            "the citizen allows (pseudonymous until you accept)."
        ),
    )
    async def meeting_requests(
        self,
        info: Info,
        offer_id: strawberry.ID,
        status: list[MeetingRequestStatus] | None = None,
        first: int = 20,
        after: str | None = None,
    ) -> IncomingMeetingRequestConnection:
        check_first(first)
        offset = _offset(after)
        ctx = info.context
        rows = await requests.ranked_requests(
            ctx.db, ctx.engine, ctx.require_actor(), str(offer_id), [s.value for s in status or []]
        )
        page = rows[offset : offset + first]
        edges = [
            IncomingMeetingRequestEdge(
                cursor=encode_cursor([offset + i]),
                node=IncomingMeetingRequest(
                    id=strawberry.ID(r["_id"]),
                    status=MeetingRequestStatus(r["status"]),
                    created_at=r["createdAt"],
                    fit=round(score, 4),
                    candidate=Candidate.from_view(view),
                ),
            )
            for i, (r, view, score) in enumerate(page)
        ]
        return IncomingMeetingRequestConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=len(rows) > offset + first,
                end_cursor=edges[-1].cursor if edges else None,
            ),
        )

    @strawberry.field(
        permission_classes=[IsEmployer],
        description=(
            "Open the candidate behind a meeting request to one of your company's offers. "
            "The citizen sees that your company looked (Hvem har set mit CV), and a pending "
            "request becomes SEEN."
        ),
    )
    async def meeting_request_candidate(self, info: Info, request_id: strawberry.ID) -> Candidate:
        view = await candidate.open_candidate(
            info.context.db, info.context.require_actor(), str(request_id)
        )
        return Candidate.from_view(view)


@strawberry.type
class MeetingsMutation:
    @strawberry.mutation(
        permission_classes=[IsCitizen],
        description=(
            "Answer a card. YES sends a meeting request (at most the daily cap of YES per day: "
            "RATE_LIMITED); NO records the answer and its optional reason. The same swipe "
            "twice gives the same result; a different answer needs undoLastSwipe first."
        ),
    )
    async def swipe(
        self,
        info: Info,
        offer_id: strawberry.ID,
        decision: SwipeDecision,
        reason: SwipeReason | None = None,
    ) -> Swipe:
        ctx = info.context
        doc = await swipes.swipe(
            ctx.db, ctx.settings, ctx.require_actor(), str(offer_id), decision.value,
            reason.value if reason else None,
        )  # fmt: skip
        return Swipe.from_doc(doc)

    @strawberry.mutation(
        permission_classes=[IsCitizen],
        description="Take back the newest swipe; a YES only while the company has not seen it.",
    )
    async def undo_last_swipe(self, info: Info) -> Swipe:
        doc = await swipes.undo_last_swipe(info.context.db, info.context.require_actor())
        return Swipe.from_doc(doc)

    @strawberry.mutation(
        permission_classes=[IsCitizen],
        description="Never show this company's coffee meetings again. Returns the blocked CVRs.",
    )
    async def block_company(self, info: Info, cvr: str) -> list[str]:
        return await deck.block_company(info.context.db, info.context.require_actor(), cvr, True)

    @strawberry.mutation(permission_classes=[IsCitizen], description="Undo blockCompany.")
    async def unblock_company(self, info: Info, cvr: str) -> list[str]:
        return await deck.block_company(info.context.db, info.context.require_actor(), cvr, False)

    @strawberry.mutation(
        permission_classes=[IsEmployer],
        description=(
            "Accept a request and book a seat in one of the offer's slots. A full slot answers "
            "CONFLICT; a slot is never over-booked. Contact details become visible to both."
        ),
    )
    async def accept_meeting_request(
        self, info: Info, id: strawberry.ID, slot_id: strawberry.ID
    ) -> Meeting:
        doc = await requests.accept_request(
            info.context.db, info.context.require_actor(), str(id), str(slot_id)
        )
        return Meeting.from_doc(doc)

    @strawberry.mutation(
        permission_classes=[IsEmployer],
        description="Decline a request; the citizen gets a kind notice.",
    )
    async def decline_meeting_request(
        self, info: Info, id: strawberry.ID, reason: DeclineReason
    ) -> MeetingRequest:
        doc = await requests.decline_request(
            info.context.db, info.context.require_actor(), str(id), reason.value
        )
        return MeetingRequest.from_doc(doc)

    @strawberry.mutation(
        permission_classes=[IsCitizenOrEmployer],
        description="Cancel a meeting (either side); the seat is freed and the other side told.",
    )
    async def cancel_meeting(
        self, info: Info, id: strawberry.ID, reason: str | None = None
    ) -> Meeting:
        doc = await lifecycle.cancel_meeting(
            info.context.db, info.context.require_actor(), str(id), reason
        )
        return Meeting.from_doc(doc)

    @strawberry.mutation(
        permission_classes=[IsCitizenOrEmployer],
        description="Move a meeting to another slot of the same offer (either side).",
    )
    async def reschedule_meeting(
        self, info: Info, id: strawberry.ID, slot_id: strawberry.ID
    ) -> Meeting:
        doc = await lifecycle.reschedule_meeting(
            info.context.db, info.context.require_actor(), str(id), str(slot_id)
        )
        return Meeting.from_doc(doc)

    @strawberry.mutation(
        permission_classes=[IsEmployer],
        description="After the start: the meeting was held (COMPLETED) or the candidate did not "
        "come (NO_SHOW). A held meeting goes into the citizen's joblog.",
    )
    async def record_meeting_outcome(
        self, info: Info, id: strawberry.ID, outcome: MeetingOutcome
    ) -> Meeting:
        doc = await lifecycle.record_outcome(
            info.context.db, info.context.require_actor(), str(id), outcome.value
        )
        return Meeting.from_doc(doc)


@strawberry.type
class MeetingsSubscription:
    @strawberry.subscription(
        permission_classes=[IsCitizenOrEmployer],
        description="Live status of the caller's meeting requests and meetings.",
    )
    async def meeting_updates(self, info: Info) -> AsyncGenerator[MeetingUpdate, None]:
        ctx = info.context
        actor = ctx.require_actor()
        field, value = (
            ("companyCvr", actor.cvr) if actor.role is Role.EMPLOYER else ("citizenId", actor.id)
        )
        start, lookback = datetime.now(UTC), ctx.settings.live_updates_lookback_s
        follow = {kind: live.Follower(start, lookback) for kind in repository.CHANGING}
        while True:
            changes = []
            for kind in repository.CHANGING:
                docs = await live.poll(
                    follow[kind],
                    lambda since, limit, kind=kind: repository.changed_since(
                        ctx.db, kind, field, value, since, limit
                    ),
                    key=lambda d, kind=kind: (kind, d["_id"], d["updatedAt"]),
                    at="updatedAt",
                )
                changes += [(kind, d) for d in docs]
            for kind, doc in sorted(changes, key=lambda kd: kd[1]["updatedAt"]):
                yield MeetingUpdate(
                    kind=UpdateKind(kind),
                    id=strawberry.ID(doc["_id"]),
                    status=doc["status"],
                    updated_at=doc["updatedAt"],
                )
            await asyncio.sleep(ctx.settings.live_updates_poll_s)
