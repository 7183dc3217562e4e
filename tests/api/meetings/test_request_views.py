"""What a company reads of a candidate, and when it counts as a look: the request lists and
``meetingRequest(id)`` carry a summary only (initial, headline occupation, fit, distance band),
write no CV view and leave a pending request pending; the full candidate is read only through
``meetingRequestCandidate``, which is logged and marks the request SEEN. Both sides refetch a
request by id, and the live updates say which offer changed."""

from __future__ import annotations

from fastapi.testclient import TestClient

from jobunivers.contract import OPERATIONS_DIR
from seed.demo import DEMO_OFFER_IDS
from tests.api.meetings.helpers import (
    CITIZEN,
    DECLINE,
    EMPLOYER,
    OTHER_EMPLOYER,
    a_request,
)
from tests.conftest import error_codes, gql, receive_json_within, token_for


def operation(name: str) -> str:
    return (OPERATIONS_DIR / f"{name}.graphql").read_text(encoding="utf-8")


# The old list document: every CV field through the deprecated ``candidate``.
DEPRECATED_LIST = """query($offer: ID!) { meetingRequests(offerId: $offer, first: 50) { edges {
  node { id candidate { requestId initial name email phone distanceBand
    experience { title months } education skills courses drivingLicences
    languages { language level } } } } } }"""
CANDIDATE = """query($id: ID!) { meetingRequestCandidate(requestId: $id) {
  initial experience { title months } skills education } }"""


def _statuses(world_db) -> dict[str, str]:
    docs = world_db.meeting_requests.find({"offerId": DEMO_OFFER_IDS[0]})
    return {d["_id"]: d["status"] for d in docs}


async def test_the_list_is_a_summary_and_only_the_logged_view_reads_the_cv(client, world_db):
    before = _statuses(world_db)
    assert set(before.values()) == {"PENDING"}
    listed = await gql(client, operation("MeetingRequests"), token=EMPLOYER,
                       variables={"offerId": DEMO_OFFER_IDS[0]})  # fmt: skip
    assert "errors" not in listed, listed
    nodes = [e["node"] for e in listed["data"]["meetingRequests"]["edges"]]
    assert len(nodes) == len(before)
    for node in nodes:
        summary = node["summary"]
        assert set(summary) == {"requestId", "initial", "name", "headline", "distanceBand"}
        assert summary["requestId"] == node["id"] and summary["initial"].endswith(".")
        assert summary["name"] is None  # pseudonymous until accepted
        assert summary["headline"] and summary["distanceBand"]
    # An app still on the old document gets no CV items through the deprecated field.
    old = await gql(client, DEPRECATED_LIST, token=EMPLOYER, variables={"offer": DEMO_OFFER_IDS[0]})
    assert "errors" not in old, old
    for edge in old["data"]["meetingRequests"]["edges"]:
        c = edge["node"]["candidate"]
        assert c["experience"] == c["education"] == c["skills"] == c["courses"] == []
        assert c["drivingLicences"] == c["languages"] == []
        assert c["email"] is None and c["phone"] is None and c["initial"].endswith(".")
    # Listing (twice) is not looking: no CV view, nothing became SEEN.
    assert world_db.cv_views.count_documents({}) == 0
    assert _statuses(world_db) == before

    # Opening one candidate reads the CV, is logged for the citizen and marks it SEEN.
    opened_id = nodes[0]["id"]
    opened = await gql(client, CANDIDATE, token=EMPLOYER, variables={"id": opened_id})
    assert "errors" not in opened, opened
    assert opened["data"]["meetingRequestCandidate"]["experience"]
    request = world_db.meeting_requests.find_one({"_id": opened_id})
    assert request["status"] == "SEEN" and request["seenAt"] is not None
    views = list(world_db.cv_views.find({}))
    assert [(v["citizenId"], v["meetingRequestId"]) for v in views] == [
        (request["citizenId"], opened_id)
    ]
    assert _statuses(world_db) == before | {opened_id: "SEEN"}


async def test_meeting_request_by_id_for_both_sides_changes_nothing(client, world_db):
    request = a_request(world_db, offer=DEMO_OFFER_IDS[0])
    document = operation("MeetingRequest")
    listed = await gql(client, operation("MeetingRequests"), token=EMPLOYER,
                       variables={"offerId": DEMO_OFFER_IDS[0]})  # fmt: skip
    in_list = next(
        e["node"] for e in listed["data"]["meetingRequests"]["edges"]
        if e["node"]["id"] == request["_id"]
    )  # fmt: skip

    # The employer: the same node as in the list (summary and fit), nothing logged or SEEN.
    theirs = await gql(client, document, token=EMPLOYER, variables={"id": request["_id"]})
    assert "errors" not in theirs, theirs
    node = theirs["data"]["meetingRequest"]
    assert node == {k: in_list[k] for k in ("id", "status", "createdAt", "fit", "summary")}
    assert node["status"] == "PENDING"
    # The citizen who sent it: their own request with its offer.
    citizen = token_for(request["citizenId"])
    own = await gql(client, document, token=citizen, variables={"id": request["_id"]})
    assert "errors" not in own, own
    mine = own["data"]["meetingRequest"]
    assert mine["id"] == request["_id"] and mine["status"] == "PENDING"
    assert mine["seenAt"] is None and mine["offer"]["id"] == DEMO_OFFER_IDS[0]
    assert "summary" not in mine and "fit" not in mine
    stored = world_db.meeting_requests.find_one({"_id": request["_id"]})
    assert stored == request  # side-effect free
    assert world_db.cv_views.count_documents({}) == 0
    # Nobody else can read it, nor probe that it exists.
    for token in (CITIZEN, OTHER_EMPLOYER):
        other = await gql(client, document, token=token, variables={"id": request["_id"]})
        assert error_codes(other) == ["NOT_FOUND"]
    for token in (CITIZEN, EMPLOYER):
        unknown = await gql(client, document, token=token, variables={"id": "findes-ikke"})
        assert error_codes(unknown) == ["NOT_FOUND"]
    assert error_codes(await gql(client, document, variables={"id": request["_id"]})) == [
        "UNAUTHENTICATED"
    ]


async def test_a_request_of_an_erased_citizen_still_renders(client, world_db):
    request = a_request(world_db, offer=DEMO_OFFER_IDS[0])
    erase = "mutation { deleteMyAccount(confirm: true) { withdrawnMeetingRequests } }"
    erased = await gql(client, erase, token=token_for(request["citizenId"]))
    assert "errors" not in erased, erased
    assert "anonymisedAt" in world_db.meeting_requests.find_one({"_id": request["_id"]})
    by_id = await gql(client, operation("MeetingRequest"), token=EMPLOYER,
                      variables={"id": request["_id"]})  # fmt: skip
    assert "errors" not in by_id, by_id
    node = by_id["data"]["meetingRequest"]
    assert node["status"] == "WITHDRAWN" and node["fit"] == 0
    assert node["summary"] == {"requestId": request["_id"], "initial": "–",
                               "name": "Slettet bruger", "headline": None,
                               "distanceBand": None}  # fmt: skip
    for status in (None, ["WITHDRAWN"]):
        listed = await gql(client, operation("MeetingRequests"), token=EMPLOYER,
                           variables={"offerId": DEMO_OFFER_IDS[0], "status": status})  # fmt: skip
        assert "errors" not in listed, listed
        ids = {e["node"]["id"]: e["node"] for e in listed["data"]["meetingRequests"]["edges"]}
        assert ids[request["_id"]] == node
    english = await gql(client, operation("MeetingRequest"), token=EMPLOYER,
                        variables={"id": request["_id"]}, headers={"Accept-Language": "en"})  # fmt: skip
    assert english["data"]["meetingRequest"]["summary"]["name"] == "Deleted user"


def test_live_updates_name_the_offer(app, world_db):
    """A declined request arrives on the company's and the citizen's socket with its offer, so
    the app knows which list to refresh and can refetch the request by id."""
    request = a_request(world_db, offer=DEMO_OFFER_IDS[0])
    with TestClient(app) as tc:
        for token in (EMPLOYER, token_for(request["citizenId"])):
            with tc.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"]) as ws:
                ws.send_json({"type": "connection_init",
                              "payload": {"authorization": f"Bearer {token}"}})  # fmt: skip
                assert receive_json_within(ws)["type"] == "connection_ack"
                ws.send_json({"id": "1", "type": "subscribe",
                              "payload": {"query": operation("MeetingUpdates")}})  # fmt: skip
                if token == EMPLOYER:
                    declined = tc.post("/graphql", json={"query": DECLINE, "variables": {"id": request["_id"]}},
                                       headers={"Authorization": f"Bearer {EMPLOYER}"})  # fmt: skip
                    assert "errors" not in declined.json(), declined.json()
                message = receive_json_within(ws)
                assert message["type"] == "next", message
                update = message["payload"]["data"]["meetingUpdates"]
                assert (update["kind"], update["id"], update["status"], update["offerId"]) == (
                    "REQUEST", request["_id"], "DECLINED", DEMO_OFFER_IDS[0],
                )  # fmt: skip
                ws.send_json({"id": "1", "type": "complete"})
