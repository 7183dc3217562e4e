"""Periodic work: unanswered requests expire with a kind notice, reminders go to both sides
once, 24 h and 1 h before."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from seed.demo import DEMO_EMPLOYER_ID
from tests.api.meetings.helpers import a_meeting, a_request, run_housekeeping


async def test_unanswered_requests_expire_with_a_kind_notice(client, world_db, app, settings):
    request = a_request(world_db)
    old = datetime.now(UTC) - timedelta(days=15)
    world_db.meeting_requests.update_one({"_id": request["_id"]}, {"$set": {"createdAt": old}})
    figures = await run_housekeeping(world_db, app, settings)
    assert figures["requests_expired"] == 1
    assert world_db.meeting_requests.find_one({"_id": request["_id"]})["status"] == "EXPIRED"
    notice = world_db.inbox.find_one({"recipientId": request["citizenId"]})
    assert (
        notice["title"] == "Din anmodning er udløbet"
        and "siger ikke noget om dig" in notice["body"]
    )
    assert (await run_housekeeping(world_db, app, settings))["requests_expired"] == 0  # once


async def test_reminders_go_to_both_sides_once(client, world_db, app, settings):
    meeting, request = await a_meeting(client, world_db)
    now = datetime.now(UTC)
    world_db.meetings.update_one(
        {"_id": meeting["id"]}, {"$set": {"startsAt": now + timedelta(hours=20)}}
    )
    assert (await run_housekeeping(world_db, app, settings, now))["reminders_sent"] == 1
    assert (await run_housekeeping(world_db, app, settings, now))["reminders_sent"] == 0
    citizen_notice = world_db.inbox.find_one(
        {"recipientId": request["citizenId"], "key": {"$regex": "^reminder-24h"}}
    )
    assert (
        citizen_notice["title"] == "Kaffemøde i morgen"
        and citizen_notice["category"] == "REMINDERS"
    )
    assert (
        world_db.inbox.count_documents(
            {"recipientId": DEMO_EMPLOYER_ID, "key": {"$regex": "^reminder-24h"}}
        )
        == 1
    )
    # An hour before, the second reminder.
    later = now + timedelta(hours=19, minutes=30)
    assert (await run_housekeeping(world_db, app, settings, later))["reminders_sent"] == 1
    one_hour = world_db.inbox.find_one(
        {"recipientId": request["citizenId"], "key": {"$regex": "^reminder-1h"}}
    )
    assert one_hour["title"] == "Kaffemøde om en time"
