"""Who may do what: every coffee-meeting, offer, posting and company operation against no
token, the wrong role, another company's employer and another citizen."""

from __future__ import annotations

from seed.demo import DEMO_CANDIDATE_IDS, DEMO_OFFER_IDS
from tests.api.meetings.helpers import (
    CITIZEN,
    EMPLOYER,
    OTHER_CVR,
    OTHER_EMPLOYER,
    a_meeting,
    a_request,
    future_slot,
)
from tests.conftest import error_codes, gql, token_for


async def test_authorisation_matrix(client, world_db):
    """Each operation against: no token, the wrong role, another company's employer and
    another citizen. Nothing may change along the way."""
    meeting, request = await a_meeting(client, world_db)
    pending = a_request(world_db)
    slot = future_slot(world_db, DEMO_OFFER_IDS[0], 2)["_id"]
    owner = token_for(request["citizenId"])
    stranger = token_for(DEMO_CANDIDATE_IDS[7] if request["citizenId"] != DEMO_CANDIDATE_IDS[7]
                         else DEMO_CANDIDATE_IDS[6])  # fmt: skip
    m, r, o = meeting["id"], pending["_id"], DEMO_OFFER_IDS[0]
    requester = token_for(pending["citizenId"])
    not_requester = token_for(next(c for c in DEMO_CANDIDATE_IDS if c != pending["citizenId"]))
    cases = [
        # (operation, owner token, wrong-role token, other party of the same role, its answer)
        ("{ swipeDeck(first: 3) { fit } }", CITIZEN, EMPLOYER, None, None),
        (f'mutation {{ swipe(offerId: "{o}", decision: NO) {{ decision }} }}', CITIZEN, EMPLOYER, None, None),
        ("mutation { undoLastSwipe { decision } }", CITIZEN, EMPLOYER, None, None),
        (f'mutation {{ blockCompany(cvr: "{OTHER_CVR}") }}', CITIZEN, EMPLOYER, None, None),
        ("{ myMeetingRequests { id } }", CITIZEN, EMPLOYER, None, None),
        (f'{{ meetingRequests(offerId: "{o}") {{ edges {{ cursor }} }} }}', EMPLOYER, CITIZEN, OTHER_EMPLOYER, "NOT_FOUND"),
        # Opening is allowed to the owner but marks the request seen: tested on its own above.
        (f'{{ meetingRequestCandidate(requestId: "{r}") {{ initial }} }}', None, CITIZEN, OTHER_EMPLOYER, "NOT_FOUND"),
        (f'mutation {{ acceptMeetingRequest(id: "{r}", slotId: "{slot}") {{ id }} }}', None, CITIZEN, OTHER_EMPLOYER, "NOT_FOUND"),
        (f'mutation {{ declineMeetingRequest(id: "{r}", reason: OTHER) {{ id }} }}', None, CITIZEN, OTHER_EMPLOYER, "NOT_FOUND"),
        # One request by id, for both sides, side-effect free (nothing changes: checked below).
        (f'{{ meetingRequest(id: "{r}") {{ id }} }}', requester, None, not_requester, "NOT_FOUND"),
        (f'{{ meetingRequest(id: "{r}") {{ id }} }}', EMPLOYER, None, OTHER_EMPLOYER, "NOT_FOUND"),
        (f'{{ meeting(id: "{m}") {{ id }} }}', owner, None, stranger, "NOT_FOUND"),
        (f'{{ meeting(id: "{m}") {{ id }} }}', EMPLOYER, None, OTHER_EMPLOYER, "NOT_FOUND"),
        (f'mutation {{ cancelMeeting(id: "{m}") {{ id }} }}', None, None, stranger, "NOT_FOUND"),
        (f'mutation {{ cancelMeeting(id: "{m}") {{ id }} }}', None, None, OTHER_EMPLOYER, "NOT_FOUND"),
        (f'mutation {{ rescheduleMeeting(id: "{m}", slotId: "{slot}") {{ id }} }}', None, None, stranger, "NOT_FOUND"),
        (f'mutation {{ rescheduleMeeting(id: "{m}", slotId: "{slot}") {{ id }} }}', None, None, OTHER_EMPLOYER, "NOT_FOUND"),
        (f'mutation {{ recordMeetingOutcome(id: "{m}", outcome: NO_SHOW) {{ id }} }}', None, CITIZEN, OTHER_EMPLOYER, "NOT_FOUND"),
        ("{ myOffers { id } }", EMPLOYER, CITIZEN, None, None),
        (f'mutation {{ pauseOffer(id: "{o}") {{ id }} }}', None, CITIZEN, OTHER_EMPLOYER, "NOT_FOUND"),
        (f'mutation {{ closeOffer(id: "{o}") {{ id }} }}', None, CITIZEN, OTHER_EMPLOYER, "NOT_FOUND"),
        (f'mutation {{ removeOfferSlot(id: "{o}", slotId: "{slot}") {{ id }} }}', None, CITIZEN, OTHER_EMPLOYER, "NOT_FOUND"),
        ('mutation { createOffer(input: {title: "x", pitch: "y", targetOccupationIds: [], postalCode: "8000"}) { id } }',
         None, CITIZEN, None, None),
        ("{ myJobPostings { id } }", EMPLOYER, CITIZEN, None, None),
        ('mutation { closeJobPosting(id: "demo-opslag-1") { id } }', None, CITIZEN, OTHER_EMPLOYER, "NOT_FOUND"),
        ("{ myCompany { cvr } }", EMPLOYER, CITIZEN, None, None),
    ]  # fmt: skip
    before = {
        n: list(world_db[n].find()) for n in ("meetings", "meeting_requests", "offers", "postings")
    }
    for query, allowed, wrong_role, other, other_code in cases:
        assert error_codes(await gql(client, query)) == ["UNAUTHENTICATED"], query
        if wrong_role:
            assert error_codes(await gql(client, query, token=wrong_role)) == ["FORBIDDEN"], query
        if other:
            assert error_codes(await gql(client, query, token=other)) == [other_code], query
        if allowed and query.startswith("{"):
            assert "errors" not in await gql(client, query, token=allowed), query
    after = {
        n: list(world_db[n].find()) for n in ("meetings", "meeting_requests", "offers", "postings")
    }
    assert after == before
