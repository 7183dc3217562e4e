"""Live updates of requests and meetings, and the inbox notices they cause, over the
graphql-transport-ws socket."""

from __future__ import annotations

from fastapi.testclient import TestClient

from seed.demo import DEMO_OFFER_IDS
from tests.api.meetings.helpers import ACCEPT, CANCEL, EMPLOYER, a_request, future_slot
from tests.conftest import receive_json_within, token_for


def test_meeting_updates_and_notifications_arrive_live(app, world_db):
    """A change made just before subscribing is still sent (it raced the subscription); later
    changes and the inbox notice they cause arrive as they happen, each once."""
    accepted = a_request(world_db, offer=DEMO_OFFER_IDS[0])
    slot = future_slot(world_db, DEMO_OFFER_IDS[0], 1)
    citizen = token_for(accepted["citizenId"])
    with (
        TestClient(app) as tc,
        tc.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"]) as ws,
    ):
        response = tc.post("/graphql", json={"query": ACCEPT, "variables": {"id": accepted["_id"], "slot": slot["_id"]}},
                           headers={"Authorization": f"Bearer {EMPLOYER}"})  # fmt: skip
        assert "errors" not in response.json(), response.json()
        ws.send_json({"type": "connection_init", "payload": {"authorization": f"Bearer {citizen}"}})
        assert receive_json_within(ws)["type"] == "connection_ack"
        ws.send_json({"id": "1", "type": "subscribe",
                      "payload": {"query": "subscription { meetingUpdates { kind id status } }"}})  # fmt: skip
        got = []
        while len(got) < 2:
            message = receive_json_within(ws)
            assert message["type"] == "next" and message["id"] == "1", message
            got.append(message["payload"]["data"]["meetingUpdates"])
        assert {(u["kind"], u["status"]) for u in got} == {
            ("REQUEST", "ACCEPTED"),
            ("MEETING", "SCHEDULED"),
        }
        ws.send_json({"id": "2", "type": "subscribe",
                      "payload": {"query": "subscription { notificationAdded { id title } }"}})  # fmt: skip
        # The acceptance's own notice (written with it) comes first, having raced this too.
        message = receive_json_within(ws)
        assert message["id"] == "2", message
        accepted_notice = message["payload"]["data"]["notificationAdded"]

        meeting = world_db.meetings.find_one({"requestId": accepted["_id"]})
        cancel = tc.post("/graphql", json={"query": CANCEL, "variables": {"id": meeting["_id"]}},
                         headers={"Authorization": f"Bearer {EMPLOYER}"})  # fmt: skip
        assert cancel.json()["data"]["cancelMeeting"]["status"] == "CANCELLED"
        by_sub: dict[str, list] = {"1": [], "2": []}
        while not (by_sub["1"] and by_sub["2"]):
            message = receive_json_within(ws)
            assert message["type"] == "next", message
            by_sub[message["id"]].append(message["payload"]["data"])
        assert by_sub["1"] == [
            {"meetingUpdates": {"kind": "MEETING", "id": meeting["_id"], "status": "CANCELLED"}}
        ]
        notice = by_sub["2"][0]["notificationAdded"]
        assert notice["id"] != accepted_notice["id"] and "aflyst" in notice["title"].lower()
        ws.send_json({"id": "1", "type": "complete"})
        ws.send_json({"id": "2", "type": "complete"})
