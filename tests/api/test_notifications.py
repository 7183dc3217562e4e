"""Devices, preferences, the inbox and the job agent over GraphQL, and the agent's matching of
new postings with the real model and index."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from api.auth.actor import Role
from api.directory import DIRECTORY
from notifications import jobagent
from seed.demo import (
    DEMO_CANDIDATE_IDS,
    DEMO_CITIZEN_ID,
    DEMO_COMPANY_CVR,
    DEMO_EMPLOYER_ID,
    DEMO_OFFER_IDS,
    FORKLIFT_OPERATOR,
    WAREHOUSE_WORKER,
)
from store.client import Store
from tests.conftest import error_codes, gql, token_for

CITIZEN = token_for(DEMO_CITIZEN_ID)
EMPLOYER = token_for(DEMO_EMPLOYER_ID, Role.EMPLOYER, DEMO_COMPANY_CVR)
REGISTER = """mutation($token: String!, $platform: DevicePlatform!, $fid: String!) {
  registerDevice(input: {token: $token, platform: $platform, appVersion: "2.1.0", locale: "da",
  installationId: $fid}) { platform tokenSuffix } }"""
PHONE = "cPhoneInstallation0001"  # Firebase installation IDs: 22 URL-safe base64 characters
TABLET = "dTabletInstallation002"
INBOX = """query($unread: Boolean!) { notifications(first: 10, unreadOnly: $unread) {
  unreadCount edges { node { id title body route category readAt } } } }"""
AGENT = "{ jobAgent { cadence radiusKm hours keywords active automatic occupations { id } } }"
UPDATE_AGENT = """mutation($input: JobAgentInput!) { updateJobAgent(input: $input) {
  cadence keywords automatic occupations { id } } }"""
CREATE_POSTING = """mutation($input: JobPostingInput!) { createJobPosting(input: $input) { id } }"""


@pytest.fixture
def client(world_client):
    return world_client


def _uri(db) -> str:
    host, port = db.client.address
    return f"mongodb://{host}:{port}/"


# --- devices --------------------------------------------------------------------------------------
async def test_devices_register_move_and_unregister(client, world_db):
    ios = {"token": "tok-123456", "platform": "IOS", "fid": PHONE}
    r = await gql(client, REGISTER, token=CITIZEN, variables=ios)
    assert r["data"]["registerDevice"] == {"platform": "IOS", "tokenSuffix": "123456"}
    android = {"token": "tok-abcdef", "platform": "ANDROID", "fid": TABLET}
    await gql(client, REGISTER, token=CITIZEN, variables=android)
    mine = await gql(client, "{ myDevices { platform } }", token=CITIZEN)
    assert sorted(d["platform"] for d in mine["data"]["myDevices"]) == ["ANDROID", "IOS"]
    # Another person signs in on the same phone (same installation): the token follows them.
    other = token_for(DEMO_CANDIDATE_IDS[0])
    await gql(client, REGISTER, token=other, variables=ios)
    assert world_db.devices.find_one({"_id": "tok-123456"})["userId"] == DEMO_CANDIDATE_IDS[0]
    # From another installation it does not (tests/api/test_device_binding.py has the rest).
    taken = await gql(client, REGISTER, token=CITIZEN, variables={**ios, "fid": TABLET})
    assert error_codes(taken) == ["CONFLICT"]
    gone = 'mutation { unregisterDevice(token: "tok-abcdef") }'
    assert (await gql(client, gone, token=CITIZEN))["data"]["unregisterDevice"] is True
    assert error_codes(await gql(client, gone, token=CITIZEN)) == ["NOT_FOUND"]
    bad = await gql(client, REGISTER, token=CITIZEN, variables={**ios, "token": " "})
    assert error_codes(bad) == ["BAD_USER_INPUT"]
    assert error_codes(await gql(client, REGISTER, variables=ios)) == ["UNAUTHENTICATED"]


# --- inbox ------------------------------------------------------------------------------------------
async def test_the_inbox_lists_counts_and_marks_read(client, world_db):
    swipe = 'mutation { swipe(offerId: "%s", decision: YES) { decision } }'
    for offer in DEMO_OFFER_IDS[:2]:
        await gql(client, swipe % offer, token=token_for(DEMO_CITIZEN_ID))
    box = (await gql(client, INBOX, token=EMPLOYER, variables={"unread": True}))["data"]
    entries = box["notifications"]["edges"]
    assert box["notifications"]["unreadCount"] == 2 and len(entries) == 2
    assert entries[0]["node"]["title"] == "Ny anmodning om kaffemøde"
    assert entries[0]["node"]["route"].startswith("/offers/")
    first = entries[0]["node"]["id"]
    read = await gql(client, 'mutation { markNotificationRead(id: "%s") { readAt } }' % first,  # noqa: UP031
                     token=EMPLOYER)  # fmt: skip
    assert read["data"]["markNotificationRead"]["readAt"]
    # Someone else's message is not found.
    assert error_codes(await gql(client, 'mutation { markNotificationRead(id: "%s") { readAt } }' % first,  # noqa: UP031
                                 token=CITIZEN)) == ["NOT_FOUND"]  # fmt: skip
    assert (await gql(client, "mutation { markAllNotificationsRead }", token=EMPLOYER))["data"] == {
        "markAllNotificationsRead": 1
    }
    box = (await gql(client, INBOX, token=EMPLOYER, variables={"unread": True}))["data"]
    assert box["notifications"]["unreadCount"] == 0 and box["notifications"]["edges"] == []


# --- preferences -----------------------------------------------------------------------------------
PREFS = """mutation($input: NotificationPreferencesInput!) { updateNotificationPreferences(input: $input) {
  categories { category enabled } quietHoursStart quietHoursEnd dailyCap } }"""


async def test_preferences_for_citizens_are_consents(client, world_db):
    result = await gql(client, PREFS, token=CITIZEN, variables={"input": {
        "categories": [{"category": "NEWS", "enabled": False}],
        "quietHoursStart": "22:00", "quietHoursEnd": "07:30", "dailyCap": 5}})  # fmt: skip
    prefs = result["data"]["updateNotificationPreferences"]
    assert {"category": "NEWS", "enabled": False} in prefs["categories"]
    assert (prefs["quietHoursStart"], prefs["quietHoursEnd"], prefs["dailyCap"]) == (
        "22:00",
        "07:30",
        5,
    )
    event = world_db.consent_events.find_one({"citizenId": DEMO_CITIZEN_ID, "setting": "push.NEWS"},
                                             sort=[("at", -1)])  # fmt: skip
    assert event["value"] == "false" and event["source"] == "APP"
    bad = await gql(client, PREFS, token=CITIZEN, variables={"input": {"quietHoursStart": "25:00",
                                                                      "quietHoursEnd": "07:00"}})  # fmt: skip
    assert error_codes(bad) == ["BAD_USER_INPUT"]
    employer = await gql(client, PREFS, token=EMPLOYER, variables={"input": {
        "categories": [{"category": "MEETINGS", "enabled": False}], "quietHoursOff": True}})  # fmt: skip
    prefs = employer["data"]["updateNotificationPreferences"]
    assert {"category": "MEETINGS", "enabled": False} in prefs["categories"]
    assert prefs["quietHoursStart"] is None


# --- the job agent ----------------------------------------------------------------------------------
async def test_the_basic_agent_comes_from_the_cv_and_can_be_edited(client, world_db):
    agent = (await gql(client, AGENT, token=CITIZEN))["data"]["jobAgent"]
    assert agent["automatic"] and agent["active"] and agent["cadence"] == "DAILY"
    cv = world_db.cvs.find_one({"citizenId": DEMO_CITIZEN_ID, "primary": True})
    held = {j["occupationId"] for j in cv["workHistory"] if j.get("occupationId")}
    assert held <= {o["id"] for o in agent["occupations"]}
    changed = await gql(client, UPDATE_AGENT, token=CITIZEN, variables={"input": {
        "occupationIds": [FORKLIFT_OPERATOR], "radiusKm": 25, "keywords": ["Truck", "truck", "nat"],
        "cadence": "INSTANT"}})  # fmt: skip
    node = changed["data"]["updateJobAgent"]
    assert node == {"cadence": "INSTANT", "keywords": ["truck", "nat"], "automatic": False,
                    "occupations": [{"id": FORKLIFT_OPERATOR}]}  # fmt: skip
    bad = await gql(client, UPDATE_AGENT, token=CITIZEN,
                    variables={"input": {"occupationIds": ["nope"], "radiusKm": 0}})  # fmt: skip
    assert {f["field"] for f in bad["errors"][0]["extensions"]["fields"]} == {
        "occupationIds[0]",
        "radiusKm",
    }
    assert error_codes(await gql(client, AGENT, token=EMPLOYER)) == ["FORBIDDEN"]
    assert error_codes(await gql(client, AGENT)) == ["UNAUTHENTICATED"]


def posting(title: str, occupation: str, deadline_days: int = 20, postal: str = "8200") -> dict:
    return {
        "title": title,
        "description": f"Vi søger en {title.lower()} til vores lager i Aarhus.",
        "occupationId": occupation,
        "postalCode": postal,
        "deadline": (datetime.now(UTC) + timedelta(days=deadline_days)).date().isoformat(),
    }


async def test_new_postings_reach_matching_agents_once(client, world_db, app):
    await gql(client, UPDATE_AGENT, token=CITIZEN, variables={"input": {
        "occupationIds": [WAREHOUSE_WORKER], "radiusKm": 30, "cadence": "INSTANT"}})  # fmt: skip
    other = token_for(DEMO_CANDIDATE_IDS[1])
    await gql(client, UPDATE_AGENT, token=other, variables={"input": {
        "occupationIds": [WAREHOUSE_WORKER], "radiusKm": 75, "cadence": "DAILY"}})  # fmt: skip
    store = Store(_uri(world_db), world_db.name)
    engine = app.state.engine
    matcher = jobagent.AgentMatcher(engine)
    try:
        start = datetime.now(UTC)
        await jobagent.run_once(
            store.db, engine, DIRECTORY, matcher, "test", now=start
        )  # takes the lease
        created = await gql(client, CREATE_POSTING, token=EMPLOYER,
                            variables={"input": posting("Lagermedarbejder", WAREHOUSE_WORKER)})  # fmt: skip
        pid = created["data"]["createJobPosting"]["id"]
        now = datetime.now(UTC) + timedelta(seconds=1)
        figures = await jobagent.run_once(store.db, engine, DIRECTORY, matcher, "test", now=now)
        assert figures["postings"] == 1 and figures["instant"] >= 1
        alert = world_db.inbox.find_one(
            {"recipientId": DEMO_CITIZEN_ID, "key": f"job-alert:{DEMO_CITIZEN_ID}:{pid}"}
        )
        assert alert["title"] == "Nyt job der matcher dig" and "Lagermedarbejder" in alert["body"]
        assert world_db.outbox.find_one({"_id": alert["_id"]})["payloadType"] == "job-alert"
        queued = world_db.agent_alerts.find_one({"_id": f"{DEMO_CANDIDATE_IDS[1]}:{pid}"})
        assert queued["status"] == "QUEUED"  # the daily agent waits for its digest
        # The same posting is never alerted twice, and a repost is not alerted again.
        again = await jobagent.run_once(store.db, engine, DIRECTORY, matcher, "test", now=now)
        assert again["instant"] == 0
        repost = await gql(client, CREATE_POSTING, token=EMPLOYER,
                           variables={"input": posting("Lagermedarbejder", WAREHOUSE_WORKER)})  # fmt: skip
        rid = repost["data"]["createJobPosting"]["id"]
        later = datetime.now(UTC) + timedelta(seconds=2)
        await jobagent.run_once(store.db, engine, DIRECTORY, matcher, "test", now=later)
        assert world_db.agent_alerts.find_one({"postingId": rid}) is None
        assert (
            world_db.inbox.count_documents(
                {"key": {"$regex": "^job-alert:"}, "recipientId": DEMO_CITIZEN_ID}
            )
            == 1
        )
        # A day later the daily agent gets its digest, with the top-up to five a week.
        tomorrow = later + timedelta(days=1, minutes=1)
        assert (await jobagent.send_digests(store.db, engine, DIRECTORY, tomorrow)) >= 1
        digest = world_db.inbox.find_one(
            {"recipientId": DEMO_CANDIDATE_IDS[1], "key": {"$regex": "^job-digest"}}
        )
        assert (
            " nye job der matcher dig: " in digest["body"]
            and "Lagermedarbejder i " in digest["body"]
        )
        sent = list(world_db.agent_alerts.find({"citizenId": DEMO_CANDIDATE_IDS[1]}))
        assert len(sent) >= 5 and all(a["status"] == "SENT" for a in sent)
        assert all(a["broadened"] in (True, False) for a in sent)
        assert (
            await jobagent.send_digests(store.db, engine, DIRECTORY, tomorrow)
        ) == 0  # once a day
    finally:
        await store.close()


async def test_a_second_instance_does_not_run_the_agent_meanwhile(client, world_db, app):
    store = Store(_uri(world_db), world_db.name)
    try:
        now = datetime.now(UTC)
        first = await jobagent.take_lease(store.db, "a", timedelta(seconds=60), now)
        assert first["owner"] == "a"
        assert await jobagent.take_lease(store.db, "b", timedelta(seconds=60), now) is None
        taken = await jobagent.take_lease(
            store.db, "b", timedelta(seconds=60), now + timedelta(seconds=61)
        )
        assert taken["owner"] == "b"
    finally:
        await store.close()


def test_digest_text():
    text = jobagent.digest_text(
        [{"title": "Lagermedarbejder", "town": "Kolding"}, {"title": "Truckfører", "town": "Vejle"},
         {"title": "Pakker", "town": "Fredericia"}, {"title": "Chauffør", "town": "Horsens"}]
    )  # fmt: skip
    assert text.title_da == "4 nye job der matcher dig"
    assert text.body_da == ("4 nye job der matcher dig: Lagermedarbejder i Kolding, Truckfører i "
                            "Vejle, Pakker i Fredericia og 1 mere.")  # fmt: skip
    assert text.body_en.startswith("4 new jobs that match you: Lagermedarbejder in Kolding")
