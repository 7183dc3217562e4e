"""A meeting's life: rescheduling (seat and calendar entry move), cancelling (seat freed,
other side told), the outcome once started, and every illegal move a conflict."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from seed.demo import DEMO_EMPLOYER_ID, DEMO_OFFER_IDS
from tests.api.meetings.helpers import CANCEL, EMPLOYER, OUTCOME, RESCHEDULE, a_meeting, future_slot
from tests.conftest import error_codes, gql, token_for


async def test_reschedule_moves_the_seat_and_the_calendar_entry(client, world_db):
    meeting, request = await a_meeting(client, world_db)
    new_slot = future_slot(world_db, DEMO_OFFER_IDS[0], 2)
    moved = await gql(client, RESCHEDULE, token=token_for(request["citizenId"]),
                      variables={"id": meeting["id"], "slot": new_slot["_id"]})  # fmt: skip
    node = moved["data"]["rescheduleMeeting"]
    assert node["status"] == "RESCHEDULED"
    slots = world_db.offers.find_one({"_id": DEMO_OFFER_IDS[0]})["slots"]
    assert (slots[1]["booked"], slots[2]["booked"]) == (0, 1)
    ics = node["icalendar"]
    assert ics.startswith("BEGIN:VCALENDAR\r\n") and "SEQUENCE:1" in ics
    assert "DTSTART:" + new_slot["startsAt"].strftime("%Y%m%dT%H%M%SZ") in ics
    notice = world_db.inbox.find_one(
        {"recipientId": DEMO_EMPLOYER_ID, "key": {"$regex": "^meeting-rescheduled"}}
    )
    assert notice["body"].startswith("Kandidaten har flyttet")


@pytest.mark.parametrize("terminal", ["CANCELLED", "COMPLETED", "NO_SHOW"])
async def test_every_illegal_transition_is_a_conflict(client, world_db, terminal):
    meeting, request = await a_meeting(client, world_db)
    world_db.meetings.update_one(
        {"_id": meeting["id"]},
        {"$set": {"status": terminal, "startsAt": datetime.now(UTC) - timedelta(hours=1)}},
    )
    citizen = token_for(request["citizenId"])
    other_slot = future_slot(world_db, DEMO_OFFER_IDS[0], 2)["_id"]
    attempts = [
        (CANCEL, citizen, {"id": meeting["id"]}),
        (CANCEL, EMPLOYER, {"id": meeting["id"]}),
        (RESCHEDULE, citizen, {"id": meeting["id"], "slot": other_slot}),
        (RESCHEDULE, EMPLOYER, {"id": meeting["id"], "slot": other_slot}),
        (OUTCOME, EMPLOYER, {"id": meeting["id"], "outcome": "COMPLETED"}),
        (OUTCOME, EMPLOYER, {"id": meeting["id"], "outcome": "NO_SHOW"}),
    ]
    for query, token, variables in attempts:
        result = await gql(client, query, token=token, variables=variables)
        assert error_codes(result) == ["CONFLICT"], (query, result)
        assert result["errors"][0]["extensions"]["status"] == terminal
    assert world_db.meetings.find_one({"_id": meeting["id"]})["status"] == terminal


async def test_outcome_only_after_the_start_and_a_held_meeting_is_logged(client, world_db):
    meeting, request = await a_meeting(client, world_db)
    early = await gql(
        client, OUTCOME, token=EMPLOYER, variables={"id": meeting["id"], "outcome": "COMPLETED"}
    )
    assert error_codes(early) == ["CONFLICT"]
    world_db.meetings.update_one({"_id": meeting["id"]},
                                 {"$set": {"startsAt": datetime.now(UTC) - timedelta(minutes=30)}})  # fmt: skip
    citizen_try = await gql(client, OUTCOME, token=token_for(request["citizenId"]),
                            variables={"id": meeting["id"], "outcome": "COMPLETED"})  # fmt: skip
    assert error_codes(citizen_try) == ["FORBIDDEN"]
    done = await gql(
        client, OUTCOME, token=EMPLOYER, variables={"id": meeting["id"], "outcome": "COMPLETED"}
    )
    assert done["data"]["recordMeetingOutcome"]["status"] == "COMPLETED"
    entry = world_db.joblog.find_one({"citizenId": request["citizenId"]})
    assert entry["source"] == "MEETING" and entry["companyName"].startswith("Østjysk")


async def test_cancel_frees_the_seat_and_tells_the_other_side(client, world_db):
    meeting, request = await a_meeting(client, world_db)
    result = await gql(client, CANCEL, token=EMPLOYER, variables={"id": meeting["id"]})
    assert result["data"]["cancelMeeting"]["status"] == "CANCELLED"
    assert world_db.offers.find_one({"_id": DEMO_OFFER_IDS[0]})["slots"][1]["booked"] == 0
    notice = world_db.inbox.find_one(
        {"recipientId": request["citizenId"], "key": {"$regex": "^meeting-cancelled"}}
    )
    assert notice["body"].startswith("Virksomheden har aflyst")
