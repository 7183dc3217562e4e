from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import UTC, datetime

import strawberry
from strawberry.types import Info

from api import live
from api.auth.actor import Role
from api.auth.permissions import IsCitizen, IsCitizenOrEmployer, IsEmployer
from api.offers.types import CoffeeMeetingOffer
from api.pagination import PageInfo, check_first, decode_offset, encode_cursor

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
    MeetingRequestView,
    MeetingStatus,
    MeetingUpdate,
    Swipe,
    SwipeCard,
    SwipeDecision,
    SwipeReason,
    UpdateKind,
)


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
                outside_field=card.outside_field,
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
            "Requests to one of your company's offers, best fit first, each with a summary of "
            "the candidate as the citizen allows (pseudonymous until you accept). Listing is "
            "not opening: nothing is logged and no request becomes SEEN; the full candidate is "
            "meetingRequestCandidate."
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
        offset = decode_offset(after)
        ctx = info.context
        rows = await requests.ranked_requests(
            ctx.db, ctx.engine, ctx.require_actor(), str(offer_id), [s.value for s in status or []],
            ctx.locale, ctx.settings.contact_details_days_after_meeting,
        )  # fmt: skip
        page = rows[offset : offset + first]
        edges = [
            IncomingMeetingRequestEdge(
                cursor=encode_cursor([offset + i]),
                node=IncomingMeetingRequest.from_incoming(row),
            )
            for i, row in enumerate(page)
        ]
        return IncomingMeetingRequestConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=len(rows) > offset + first,
                end_cursor=edges[-1].cursor if edges else None,
            ),
        )

    @strawberry.field(
        permission_classes=[IsCitizenOrEmployer],
        description=(
            "One meeting request, as the caller's side sees it (for refetching after a push or "
            "a meetingUpdates event): a citizen gets their own request (MeetingRequest), an "
            "employer a request to one of the company's offers (IncomingMeetingRequest, with "
            "the candidate's summary as in meetingRequests). Side-effect free: nothing is "
            "logged and a pending request stays PENDING. Anyone else's id answers NOT_FOUND. "
            "Added in contract 0.2."
        ),
    )
    async def meeting_request(self, info: Info, id: strawberry.ID) -> MeetingRequestView:
        ctx = info.context
        actor = ctx.require_actor()
        if actor.role is Role.EMPLOYER:
            row = await requests.incoming_request(
                ctx.db, ctx.engine, actor, str(id), ctx.locale,
                ctx.settings.contact_details_days_after_meeting,
            )  # fmt: skip
            return IncomingMeetingRequest.from_incoming(row)
        return MeetingRequest.from_doc(await requests.my_request(ctx.db, actor, str(id)))

    @strawberry.field(
        permission_classes=[IsEmployer],
        description=(
            "Open the candidate behind a meeting request to one of your company's offers. "
            "The citizen sees that your company looked (Hvem har set mit CV), and a pending "
            "request becomes SEEN."
        ),
    )
    async def meeting_request_candidate(self, info: Info, request_id: strawberry.ID) -> Candidate:
        ctx = info.context
        view = await candidate.open_candidate(
            ctx.db, ctx.require_actor(), str(request_id),
            ctx.settings.contact_details_days_after_meeting,
        )  # fmt: skip
        return Candidate.from_view(view)


@strawberry.type
class MeetingsMutation:
    @strawberry.mutation(
        permission_classes=[IsCitizen],
        description=(
            "Answer a card. YES sends a meeting request (at most the daily cap of YES per day: "
            "RATE_LIMITED); NO records the answer and its optional reason. The same swipe "
            "twice gives the same result, except that NO again with another reason replaces "
            "the reason (omitting it clears it); YES after NO or NO after YES answers CONFLICT "
            "(undoLastSwipe first)."
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
        description="Never show this company's coffee meetings again. Returns the blocked CVRs. "
        "cvr: 8 digits 0-9 with a valid mod-11 check digit; 200 companies at most "
        "(BAD_USER_INPUT beyond; unblock one first). Checked since contract 0.2 (issue 16).",
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
        # Woken by the change feed on a write to the caller's requests or meetings (the
        # repository says where they live); polls where the database has no change streams.
        watch = live.Watch(field, frozenset(repository.CHANGING.values()))
        with live.changes(ctx.db, ctx.settings, watch, value) as next_change:
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
                        offer_id=strawberry.ID(doc["offerId"]),
                    )
                await next_change()
