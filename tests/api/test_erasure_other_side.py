"""After a citizen erases their account, the companies they dealt with keep working: every list
and detail operation of the app (``mobile_contract/operations/``) answers for the employer
without INTERNAL_SERVER_ERROR, and the anonymised requests and meetings render, the citizen
shown as "Slettet bruger" (Deleted user)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from graphql import NonNullTypeNode, OperationDefinitionNode, OperationType, parse

from api.auth.actor import Role
from seed.demo import DEMO_CANDIDATE_IDS, DEMO_COMPANY_CVR, DEMO_EMPLOYER_ID, DEMO_OFFER_IDS
from tests.conftest import error_codes, gql, token_for

OPERATIONS = Path(__file__).resolve().parents[2] / "mobile_contract" / "operations"
ERASED_ID = DEMO_CANDIDATE_IDS[0]  # has a pending request to DEMO_OFFER_IDS[0]
ERASED = token_for(ERASED_ID)
EMPLOYER = token_for(DEMO_EMPLOYER_ID, Role.EMPLOYER, DEMO_COMPANY_CVR)

SWIPE_YES = """mutation($offer: ID!) { swipe(offerId: $offer, decision: YES) {
  request { id status } } }"""
ACCEPT = """mutation($id: ID!, $slot: ID!) { acceptMeetingRequest(id: $id, slotId: $slot) {
  id status } }"""
OUTCOME = """mutation($id: ID!) { recordMeetingOutcome(id: $id, outcome: COMPLETED) { status } }"""
ERASE = "mutation { deleteMyAccount(confirm: true) { withdrawnMeetingRequests } }"


def operations(kind: OperationType) -> dict[str, tuple[str, OperationDefinitionNode]]:
    """Every operation of the contract of one kind, by name, with its parsed definition."""
    found = {}
    for path in sorted(OPERATIONS.glob("*.graphql")):
        text = path.read_text()
        for node in parse(text).definitions:
            if isinstance(node, OperationDefinitionNode) and node.operation is kind:
                found[node.name.value] = (text, node)
    return found


def _placeholder(type_node) -> object:
    """A value for a required variable no table entry names: an unknown id or a short text."""
    named = type_node
    while not hasattr(named, "name"):
        named = named.type
    return {"Int": 1, "Boolean": False}.get(named.name.value, "findes-ikke")


def variable_sets(node: OperationDefinitionNode, table: dict[str, list[dict]]) -> list[dict]:
    """The variables to call the operation with: the table's sets, else the required variables
    filled with placeholders (an operation added later is called too)."""
    name = node.name.value
    if name in table:
        return table[name]
    required = {
        v.variable.name.value: _placeholder(v.type)
        for v in node.variable_definitions or ()
        if isinstance(v.type, NonNullTypeNode) and v.default_value is None
    }
    return [required]


async def erased_citizen_world(client, world_db) -> dict:
    """The citizen has a meeting that was held (outcome recorded), a coming meeting, a pending
    request and (from the seed) another pending one; then they erase their account."""
    mine = world_db.meeting_requests.find_one({"citizenId": ERASED_ID})
    assert mine is not None and mine["offerId"] == DEMO_OFFER_IDS[0]
    made = {}
    for offer in DEMO_OFFER_IDS[1:]:
        result = await gql(client, SWIPE_YES, token=ERASED, variables={"offer": offer})
        assert "errors" not in result, result
        made[offer] = result["data"]["swipe"]["request"]["id"]
    # The seeded request is accepted: a coming meeting.
    slot0 = world_db.offers.find_one({"_id": DEMO_OFFER_IDS[0]})["slots"][1]["_id"]
    coming = await gql(client, ACCEPT, token=EMPLOYER, variables={"id": mine["_id"], "slot": slot0})
    assert "errors" not in coming, coming
    # The request to the second offer is accepted and the meeting held (moved into the past).
    slot1 = world_db.offers.find_one({"_id": DEMO_OFFER_IDS[1]})["slots"][0]["_id"]
    held = await gql(client, ACCEPT, token=EMPLOYER,
                     variables={"id": made[DEMO_OFFER_IDS[1]], "slot": slot1})  # fmt: skip
    assert "errors" not in held, held
    held_id = held["data"]["acceptMeetingRequest"]["id"]
    past = datetime.now(UTC) - timedelta(hours=2)
    world_db.meetings.update_one(
        {"_id": held_id}, {"$set": {"startsAt": past, "endsAt": past + timedelta(minutes=25)}}
    )
    done = await gql(client, OUTCOME, token=EMPLOYER, variables={"id": held_id})
    assert done["data"]["recordMeetingOutcome"]["status"] == "COMPLETED", done
    erased = await gql(client, ERASE, token=ERASED)
    assert "errors" not in erased, erased
    return {
        "coming": coming["data"]["acceptMeetingRequest"]["id"],
        "held": held_id,
        "accepted_request": mine["_id"],
        "pending_request": made[DEMO_OFFER_IDS[2]],
        "held_request": made[DEMO_OFFER_IDS[1]],
    }


def employer_variables(world_db, ids: dict) -> dict[str, list[dict]]:
    requests = [ids["accepted_request"], ids["pending_request"], ids["held_request"]]
    other = world_db.meeting_requests.find_one(
        {"companyCvr": DEMO_COMPANY_CVR, "citizenId": {"$ne": ERASED_ID, "$regex": "^demo"}}
    )
    posting = world_db.postings.find_one({}, sort=[("_id", 1)])
    return {
        "Meetings": [{}, *({"status": [s]} for s in ("CANCELLED", "COMPLETED", "SCHEDULED"))],
        "Meeting": [{"id": ids["coming"]}, {"id": ids["held"]}],
        "MeetingRequests": [
            {"offerId": offer, **status}
            for offer in DEMO_OFFER_IDS
            for status in ({}, {"status": ["WITHDRAWN"]}, {"status": ["ACCEPTED"]})
        ],
        "MeetingRequest": [{"id": r} for r in requests],
        "MeetingRequestCandidate": [{"requestId": r} for r in [*requests, other["_id"]]],
        "MyOffers": [{}, {"status": ["OPEN"]}],
        "CoffeeMeetingOffer": [{"id": offer} for offer in DEMO_OFFER_IDS],
        "JobPostingDetail": [{"id": posting["_id"]}],
        "IscoGroupOccupations": [{"code": "933"}],
        "Occupation": [{"id": "findes-ikke"}],
        "NormalizeTitle": [{"text": "lagermedarbejder"}],
        "OccupationTypeahead": [{"search": "lager"}],
    }


async def test_every_employer_screen_answers_after_the_citizen_erased_their_account(
    client, world_db
):
    ids = await erased_citizen_world(client, world_db)
    table = employer_variables(world_db, ids)
    answers: dict[str, list[dict]] = {}
    for name, (text, node) in operations(OperationType.QUERY).items():
        for variables in variable_sets(node, table):
            for locale in ("da", "en"):
                result = await gql(client, text, token=EMPLOYER, variables=variables,
                                   headers={"Accept-Language": locale})  # fmt: skip
                assert "INTERNAL_SERVER_ERROR" not in error_codes(result), (name, variables, result)
                answers.setdefault(name, []).append(result)
    # The company's own screens answer in full, not only without a crash.
    for name in ("Meetings", "Meeting", "MeetingRequests", "MyOffers", "CoffeeMeetingOffer",
                 "Notifications", "Viewer", "MyCompany"):  # fmt: skip
        for result in answers[name]:
            assert "errors" not in result, (name, result)

    listed = {m["id"]: m for m in answers["Meetings"][0]["data"]["meetings"]}
    coming, held = listed[ids["coming"]], listed[ids["held"]]
    assert coming["status"] == "CANCELLED" and held["status"] == "COMPLETED"
    assert coming["title"] == "Kaffemøde: Lagermedarbejder" and coming["companyName"]
    assert coming["counterpart"] == {"name": "Slettet bruger", "email": None, "phone": None,
                                     "withheld": False}  # fmt: skip
    english = answers["Meetings"][1]["data"]["meetings"]
    assert {m["counterpart"]["name"] for m in english if m["id"] in ids.values()} == {
        "Deleted user"
    }
    detail = answers["Meeting"][0]["data"]["meeting"]
    assert "STATUS:CANCELLED" in detail["icalendar"]
    assert "Slettet bruger" in detail["icalendar"]


async def test_the_cancelled_meeting_push_opens_a_meeting_that_renders(client, world_db):
    ids = await erased_citizen_world(client, world_db)
    notice = world_db.inbox.find_one(
        {"recipientId": DEMO_EMPLOYER_ID, "key": {"$regex": f"^meeting-cancelled:{ids['coming']}"}}
    )
    assert notice["title"] == "Kaffemøde aflyst"
    meeting_id = notice["route"].rsplit("/", 1)[-1]
    text = (OPERATIONS / "Meeting.graphql").read_text()
    result = await gql(client, text, token=EMPLOYER, variables={"id": meeting_id})
    assert "errors" not in result, result
    assert result["data"]["meeting"]["status"] == "CANCELLED"


@pytest.mark.parametrize("missing", ["title", "companyName", "mode"])
async def test_a_meeting_anonymised_before_its_fields_were_kept_still_renders(
    client, world_db, missing
):
    """Meetings erased by an earlier version kept fewer fields (no title, company name or
    mode): they render from the offer."""
    ids = await erased_citizen_world(client, world_db)
    world_db.meetings.update_one({"_id": ids["coming"]}, {"$unset": {missing: ""}})
    text = (OPERATIONS / "Meeting.graphql").read_text()
    result = await gql(client, text, token=EMPLOYER, variables={"id": ids["coming"]})
    assert "errors" not in result, result
    meeting = result["data"]["meeting"]
    assert meeting["title"] == "Kaffemøde: Lagermedarbejder"
    assert meeting["companyName"] and meeting["mode"] == "IN_PERSON"
    listed = await gql(client, (OPERATIONS / "Meetings.graphql").read_text(), token=EMPLOYER)
    assert "errors" not in listed, listed
