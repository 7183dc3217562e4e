"""The citizen's answers to deck cards. YES sends a meeting request (within a daily quota), NO
records the answer and its reason (used only for this citizen's deck); the newest answer can be
taken back while the company has not opened the request.

A swipe, its request, the quota and the company's notice are written in one transaction.
"""

from __future__ import annotations

import asyncio
import uuid

from pymongo.errors import DuplicateKeyError

from api.auth.actor import Actor
from api.citizens.service import require_citizen
from api.offers import repository as offers
from api.offers.rules import is_open, offer_not_found
from core.errors import BadUserInput, Conflict, NotFound, RateLimited
from core.settings import Settings
from store.client import in_transaction

from . import notices, repository
from .repository import MeetingRequestDoc, SwipeDoc
from .rules import RequestStatus, SwipeDecision, SwipeReason, local_day, now_utc


async def swipe(
    db,
    settings: Settings,
    actor: Actor,
    offer_id: str,
    decision: SwipeDecision | str,
    reason: SwipeReason | str | None,
) -> SwipeDoc:
    """YES sends a meeting request, NO records the answer. The same swipe twice returns the
    first, except that a NO with another reason replaces the reason (the citizen corrected
    why; the deck uses the newest); a different answer to the same card needs an undo first.

    Round trips (issue 18: each is a wait on the database, and under load the waits add up):
    what the swipe only reads (the citizen, an earlier answer, the offer, an earlier request,
    the company's employers) is read at once, side by side, before any write; reads in a
    transaction would not keep it any more current (a snapshot does not lock what it read).
    What must hold against concurrent swipes is settled by the writes: the answer's ``_id``
    (citizen:offer) is unique, so a second swipe of the pair racing this one fails to insert
    and is answered again from the stored one; the day's quota is counted with one increment
    that serializes two YES of one citizen (``take_yes``). A YES writes its request, quota,
    notice and answer in one transaction; a NO is one insert, atomic without one."""
    if decision not in tuple(SwipeDecision):
        raise BadUserInput("Ukendt svar.", "Unknown answer.")
    if reason is not None and (decision == SwipeDecision.YES or reason not in tuple(SwipeReason)):
        raise BadUserInput("Ugyldig begrundelse.", "Invalid reason.")
    now = now_utc()
    for _ in range(SWIPE_ATTEMPTS - 1):
        try:
            return await _swipe(db, settings, actor, offer_id, decision, reason, now)
        except DuplicateKeyError:
            # Another request wrote the same key between the reads and the write: the same
            # card answered (answered as that one, or as a conflict, as if it had come first),
            # or the day's quota document created by a second YES of the citizen.
            continue
    return await _swipe(db, settings, actor, offer_id, decision, reason, now)


SWIPE_ATTEMPTS = 3  # a race on the answer's key, then on the quota's, each settles in one


async def _swipe(
    db, settings: Settings, actor: Actor, offer_id: str, decision: str, reason: str | None,
    now,
) -> SwipeDoc:  # fmt: skip
    day = local_day(now)
    yes = decision == SwipeDecision.YES
    citizen, existing, offer = await asyncio.gather(
        require_citizen(db, actor),
        repository.get_swipe(db, actor.id, offer_id),
        offers.get_offer(db, offer_id),
    )
    if existing is not None:
        if existing["decision"] == decision:
            if decision == SwipeDecision.NO and existing.get("reason") != reason:
                return await repository.set_swipe_reason(db, existing["_id"], reason, None)
            return existing
        raise Conflict(
            "Du har allerede svaret på dette kaffemøde. Fortryd først, hvis du har fortrudt.",
            "You already answered this coffee meeting. Undo first to change your answer.",
        )
    if offer is None or offer["companyCvr"] in set(citizen.get("blockedCompanies", [])):
        raise offer_not_found()
    doc = SwipeDoc(
        _id=f"{actor.id}:{offer_id}",
        citizenId=actor.id,
        offerId=offer_id,
        companyCvr=offer["companyCvr"],
        decision=decision,
        reason=reason,
        iscoCodes=list(offer.get("targetIscoCodes", [])),
        day=day,
        createdAt=now,
        requestId=None,
    )
    if not yes:
        await repository.insert_swipe(db, doc)
        return doc
    if not is_open(offer, now):
        raise Conflict("Kaffemødet er ikke længere åbent.", "The coffee meeting is no longer open.")
    earlier, recipients = await asyncio.gather(
        repository.request_for(db, actor.id, offer_id),
        notices.company_recipients(db, offer["companyCvr"]),
    )

    async def work(session) -> SwipeDoc:
        if not await repository.take_yes(db, actor.id, day, settings.daily_yes_swipes, session):
            raise RateLimited(
                f"Du har sagt ja til {settings.daily_yes_swipes} kaffemøder i dag. Prøv "
                "igen i morgen.",
                f"You have said yes to {settings.daily_yes_swipes} coffee meetings today. "
                "Try again tomorrow.",
            )
        if earlier is not None:
            raise Conflict(
                "Du har allerede bedt om dette kaffemøde.",
                "You already asked for this coffee meeting.",
            )
        request = MeetingRequestDoc(
            _id=uuid.uuid4().hex,
            citizenId=actor.id,
            offerId=offer_id,
            companyCvr=offer["companyCvr"],
            status=RequestStatus.PENDING,
            createdAt=now,
            updatedAt=now,
            seenAt=None,
        )
        await repository.insert_request(db, request, session)
        await notices.request_created(db, request, offer["title"], now, session, recipients)
        swiped: SwipeDoc = {**doc, "requestId": request["_id"]}
        await repository.insert_swipe(db, swiped, session)
        return swiped

    return await in_transaction(db, work)


async def undo_last_swipe(db, actor: Actor) -> SwipeDoc:
    """Take back the newest swipe. A YES can be taken back only while the company has not
    opened the request; its notice is withdrawn and the day's quota given back."""

    async def work(session) -> SwipeDoc:
        last = await repository.last_swipe(db, actor.id, session)
        if last is None:
            raise NotFound("Der er ingen swipe at fortryde.", "There is no swipe to undo.")
        if last["decision"] == SwipeDecision.YES and last.get("requestId"):
            request = await repository.get_request(db, last["requestId"], session)
            if request is not None and request["status"] != RequestStatus.PENDING:
                raise Conflict(
                    "Virksomheden har allerede set din anmodning, så den kan ikke fortrydes.",
                    "The company has already seen your request, so it cannot be undone.",
                )
            if request is not None:
                await repository.delete_request(db, request["_id"], session)
                await notices.request_taken_back(db, request["_id"], session)
            await repository.add_yes(db, actor.id, last["day"], -1, session)
        await repository.delete_swipe(db, last["_id"], session)
        return last

    return await in_transaction(db, work)
