"""What the coffee-meeting tests share: tokens for the demo accounts, the GraphQL documents,
and helpers that find or make a request or meeting in the seeded world (``world_db``)."""

from __future__ import annotations

from api.auth.actor import Role
from api.housekeeping import SyncState, run_once
from seed.demo import (
    DEMO_CANDIDATE_IDS,
    DEMO_CITIZEN_ID,
    DEMO_COMPANY_CVR,
    DEMO_EMPLOYER_ID,
    DEMO_OFFER_IDS,
)
from store.client import Store
from tests.conftest import gql, token_for

CITIZEN = token_for(DEMO_CITIZEN_ID)
CANDIDATE_ID = DEMO_CANDIDATE_IDS[0]
CANDIDATE = token_for(CANDIDATE_ID)
EMPLOYER = token_for(DEMO_EMPLOYER_ID, Role.EMPLOYER, DEMO_COMPANY_CVR)
OTHER_CVR = "29403473"
OTHER_EMPLOYER = token_for("anden-arbejdsgiver", Role.EMPLOYER, OTHER_CVR)

DECK = """query($first: Int!) { swipeDeck(first: $first) { reason fit distanceKm
  offer { id title companyCvr mode slots { id free startsAt } } } }"""
SWIPE = """mutation($offer: ID!, $decision: SwipeDecision!, $reason: SwipeReason) {
  swipe(offerId: $offer, decision: $decision, reason: $reason) {
    offerId decision reason request { id status } } }"""
UNDO = "mutation { undoLastSwipe { offerId decision } }"
ACCEPT = """mutation($id: ID!, $slot: ID!) { acceptMeetingRequest(id: $id, slotId: $slot) {
  id status startsAt counterpart { name email phone } } }"""
DECLINE = """mutation($id: ID!) { declineMeetingRequest(id: $id, reason: POSITION_FILLED) {
  id status } }"""
REQUESTS = """query($offer: ID!, $first: Int!, $after: String) {
  meetingRequests(offerId: $offer, first: $first, after: $after) {
    edges { cursor node { id status fit candidate { initial name email distanceBand
      experience { title months } } } } pageInfo { hasNextPage endCursor } } }"""
CANCEL = 'mutation($id: ID!) { cancelMeeting(id: $id, reason: "Syg") { id status } }'
RESCHEDULE = """mutation($id: ID!, $slot: ID!) { rescheduleMeeting(id: $id, slotId: $slot) {
  id status startsAt icalendar } }"""
OUTCOME = """mutation($id: ID!, $outcome: MeetingOutcome!) {
  recordMeetingOutcome(id: $id, outcome: $outcome) { id status } }"""


def by_id(query: str, value: str) -> str:
    return query.replace("$ID", value)


def db_uri(db) -> str:
    host, port = db.client.address
    return f"mongodb://{host}:{port}/"


async def run_housekeeping(world_db, app, settings, now=None) -> dict:
    store = Store(db_uri(world_db), world_db.name)
    try:
        return await run_once(
            store.db, settings, app.state.engine, SyncState(), now,
            erased=[app.state.erased_accounts],
        )  # fmt: skip
    finally:
        await store.close()


def a_request(db, status=("PENDING",), offer=None) -> dict:
    query = {"status": {"$in": list(status)}, "companyCvr": DEMO_COMPANY_CVR}
    if offer:
        query["offerId"] = offer
    return db.meeting_requests.find_one(query, sort=[("_id", 1)])


def future_slot(db, offer_id: str, index: int = 0) -> dict:
    return db.offers.find_one({"_id": offer_id})["slots"][index]


async def accept(client, request_id: str, slot_id: str, token=EMPLOYER) -> dict:
    return await gql(client, ACCEPT, token=token, variables={"id": request_id, "slot": slot_id})


async def a_meeting(client, world_db, slot_index=1) -> tuple[dict, dict]:
    request = a_request(world_db, offer=DEMO_OFFER_IDS[0])
    slot = future_slot(world_db, DEMO_OFFER_IDS[0], slot_index)
    result = await accept(client, request["_id"], slot["_id"])
    return result["data"]["acceptMeetingRequest"], request
