"""A citizen who has used every feature of the app, made through the API as the app does it (and
the background steps that act on their behalf: the job agent, the push worker, reminders), for
the export's schema test and the erasure tests (``world_db`` from ``citizen_world``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from api.auth.actor import Role
from api.directory import DIRECTORY
from api.meetings.housekeeping import send_reminders
from notifications import jobagent
from notifications.transports import LocalTransport
from notifications.worker import drain_once
from seed.demo import (
    DEMO_CANDIDATE_IDS,
    DEMO_COMPANY_CVR,
    DEMO_EMPLOYER_ID,
    DEMO_OFFER_IDS,
    FORKLIFT_OPERATOR,
    WAREHOUSE_WORKER,
)
from store.client import Store
from tests.conftest import gql, token_for

CITIZEN_ID = DEMO_CANDIDATE_IDS[0]  # has a pending request to DEMO_OFFER_IDS[0] from the seed
CITIZEN = token_for(CITIZEN_ID)
EMPLOYER = token_for(DEMO_EMPLOYER_ID, Role.EMPLOYER, DEMO_COMPANY_CVR)
OTHER_CVR = "29403473"

# What only this citizen wrote or is: the erasure tests look for each of these everywhere.
SECRETS = {
    "email": "ida.unik.4417@example.dk",
    "phone": "+45 20 44 17 99",
    "employer": "Egen Arbejdsplads 5521",
    "description": "Unik beskrivelse 9137",
    "note": "Personlig note 4711",
    "device": f"device-token-{CITIZEN_ID}-7781",
    "cancel": "Kan ikke 3318",
}


def _uri(db) -> str:
    host, port = db.client.address
    return f"mongodb://{host}:{port}/"


async def _ok(client, query: str, token: str, **variables) -> dict:
    result = await gql(client, query, token=token, variables=variables)
    assert "errors" not in result, (query, result)
    return result["data"]


async def use_every_feature(client, world_db, app) -> dict:
    """Returns the ids the tests look at."""
    now = datetime.now(UTC)
    posting = world_db.postings.find_one({"_id": {"$regex": "^demo-opslag"}})
    other_posting = world_db.postings.find_one({"_id": {"$regex": "^(?!demo)"}})
    ids: dict = {}
    # Profile, job wishes, privacy choices and a blocked company.
    await _ok(client, """mutation($input: ProfileInput!) { updateMyProfile(input: $input) { id } }""",
              CITIZEN, input={"firstName": "Ida", "lastName": "Unik-Lund", "email": SECRETS["email"],
                              "phone": SECRETS["phone"], "postalCode": "8200"})  # fmt: skip
    await _ok(client, """mutation($input: JobPreferencesInput!) { updateMyJobPreferences(input:
              $input) { id } }""", CITIZEN,
              input={"occupationIds": [WAREHOUSE_WORKER, FORKLIFT_OPERATOR], "radiusKm": 40,
                     "hours": "FULL_TIME", "contractTypes": ["PERMANENT"],
                     "earliestStart": (now + timedelta(days=7)).date().isoformat()})  # fmt: skip
    await _ok(client, """mutation { updateMyPrivacySettings(input: {employerVisibility: NAMED,
              pushCategories: [{category: NEWS, enabled: false}]}) { id } }""", CITIZEN)  # fmt: skip
    await _ok(client, "mutation($cvr: String!) { blockCompany(cvr: $cvr) }", CITIZEN, cvr=OTHER_CVR)
    # CVs: the primary one edited, a new one and a copy.
    cv = world_db.cvs.find_one({"citizenId": CITIZEN_ID, "primary": True})
    own_cv = {
        "name": "Mit CV", "skills": ["gaffeltruck", "plukning med scanner"],
        "courses": ["Truckcertifikat B"], "drivingLicences": ["B", "C"],
        "languages": [{"language": "Dansk", "level": "NATIVE"}],
        "education": [{"title": "Lager og logistik", "level": "EUD", "institution": "Aarhus Tech",
                       "completedYear": 2015}],
        "workHistory": [{"title": "Lagerarbejder", "occupationId": WAREHOUSE_WORKER,
                         "employer": SECRETS["employer"], "start": "2016-01", "end": "2024-01",
                         "description": SECRETS["description"]}],
    }  # fmt: skip
    await _ok(client, """mutation($id: ID!, $input: CvInput!) { updateCv(id: $id, input: $input)
              { id } }""", CITIZEN, id=cv["_id"], input=own_cv)  # fmt: skip
    made = await _ok(client, """mutation($input: CvInput!) { createCv(input: $input) { id } }""",
                     CITIZEN, input={"name": "Kort CV", "skills": ["rengøring"]})  # fmt: skip
    await _ok(client, """mutation($id: ID!) { duplicateCv(id: $id, name: "Kopi") { id } }""",
              CITIZEN, id=made["createCv"]["id"])  # fmt: skip
    # Suggestions with profiling (the profile vector), answers to them, the joblog, saved jobs.
    await _ok(client, "{ recommendedJobs(first: 3) { profiling } }", CITIZEN)
    await _ok(client, """mutation($id: ID!) { markJobNotInterested(postingId: $id, reason: TOO_FAR)
              { reason } }""", CITIZEN, id=other_posting["_id"])  # fmt: skip
    await _ok(
        client,
        "mutation($id: ID!) { saveJob(postingId: $id) { savedAt } }",
        CITIZEN,
        id=posting["_id"],
    )
    await _ok(
        client,
        "mutation($id: ID!) { applyToJob(postingId: $id) { id } }",
        CITIZEN,
        id=posting["_id"],
    )
    await _ok(client, """mutation($input: JobApplicationInput!) { addJobApplication(input: $input)
              { id } }""", CITIZEN, input={"appliedOn": (now - timedelta(days=3)).date().isoformat(),
              "form": "PHONE", "kind": "UNSOLICITED", "companyName": "Hemmelig Note ApS",
              "jobTitle": "Pakker", "note": SECRETS["note"]})  # fmt: skip
    # Swipes: YES (a request and the day's quota) and NO with a reason.
    yes = await _ok(client, """mutation($offer: ID!) { swipe(offerId: $offer, decision: YES) {
                    request { id } } }""", CITIZEN, offer=DEMO_OFFER_IDS[1])  # fmt: skip
    ids["yes_request"] = yes["swipe"]["request"]["id"]
    await _ok(client, """mutation($offer: ID!) { swipe(offerId: $offer, decision: NO,
              reason: BAD_TIMES) { decision } }""", CITIZEN, offer=DEMO_OFFER_IDS[2])  # fmt: skip
    # The company opens the seeded request (a CV view), accepts it, moves the meeting and
    # cancels it with a note; the YES request is accepted and held (its outcome recorded).
    seeded = world_db.meeting_requests.find_one(
        {"citizenId": CITIZEN_ID, "offerId": DEMO_OFFER_IDS[0]}
    )
    ids["seeded_request"] = seeded["_id"]
    await _ok(client, """query($id: ID!) { meetingRequestCandidate(requestId: $id) { initial } }""",
              EMPLOYER, id=seeded["_id"])  # fmt: skip
    slots = world_db.offers.find_one({"_id": DEMO_OFFER_IDS[0]})["slots"]
    accept = """mutation($id: ID!, $slot: ID!) { acceptMeetingRequest(id: $id, slotId: $slot) {
      id } }"""
    coming = await _ok(client, accept, EMPLOYER, id=seeded["_id"], slot=slots[0]["_id"])
    ids["coming"] = coming["acceptMeetingRequest"]["id"]
    await _ok(client, """mutation($id: ID!, $slot: ID!) { rescheduleMeeting(id: $id, slotId: $slot)
              { id } }""", CITIZEN, id=ids["coming"], slot=slots[1]["_id"])  # fmt: skip
    held_slot = world_db.offers.find_one({"_id": DEMO_OFFER_IDS[1]})["slots"][0]["_id"]
    held = await _ok(client, accept, EMPLOYER, id=ids["yes_request"], slot=held_slot)
    ids["held"] = held["acceptMeetingRequest"]["id"]
    past = now - timedelta(hours=2)
    world_db.meetings.update_one(
        {"_id": ids["held"]}, {"$set": {"startsAt": past, "endsAt": past + timedelta(minutes=25)}}
    )
    await _ok(client, """mutation($id: ID!) { recordMeetingOutcome(id: $id, outcome: COMPLETED)
              { status } }""", EMPLOYER, id=ids["held"])  # fmt: skip
    # A request to a new offer of the company is declined.
    offer = await _ok(client, """mutation($input: OfferInput!) { createOffer(input: $input) { id } }""",
                      EMPLOYER, input={"title": "Kaffemøde: Pakker", "pitch": "Kom til kaffe.",
                      "targetOccupationIds": [WAREHOUSE_WORKER], "postalCode": "8200",
                      "address": "Lagervej 12, 8200 Aarhus N", "slots": [{"startsAt": (
                          now + timedelta(days=5)).replace(microsecond=0).isoformat()}]})  # fmt: skip
    asked = await _ok(client, """mutation($offer: ID!) { swipe(offerId: $offer, decision: YES) {
                      request { id } } }""", CITIZEN, offer=offer["createOffer"]["id"])  # fmt: skip
    ids["declined_request"] = asked["swipe"]["request"]["id"]
    await _ok(client, """mutation($id: ID!) { declineMeetingRequest(id: $id, reason: NO_CAPACITY)
              { status } }""", EMPLOYER, id=ids["declined_request"])  # fmt: skip
    # Devices, notification settings, a message read.
    await _ok(client, """mutation($t: String!) { registerDevice(input: {token: $t, platform: ANDROID,
              appVersion: "2.1.0", locale: "da", installationId: "cEveryFeaturePhone0001"}) { platform } }""",
              CITIZEN, t=SECRETS["device"])  # fmt: skip
    await _ok(client, """mutation { updateNotificationPreferences(input: {quietHoursStart: "22:00",
              quietHoursEnd: "07:00", dailyCap: 6}) { dailyCap } }""", CITIZEN)  # fmt: skip
    inbox = await _ok(client, "{ notifications(first: 5) { edges { node { id } } } }", CITIZEN)
    first_message = inbox["notifications"]["edges"][0]["node"]["id"]
    await _ok(
        client,
        "mutation($id: ID!) { markNotificationRead(id: $id) { id } }",
        CITIZEN,
        id=first_message,
    )
    # The job agent, set by hand, alerts a new posting; the push worker delivers (and counts).
    await _ok(client, """mutation($input: JobAgentInput!) { updateJobAgent(input: $input) {
              cadence } }""", CITIZEN, input={"occupationIds": [WAREHOUSE_WORKER], "radiusKm": 40,
              "cadence": "INSTANT", "keywords": ["lager"]})  # fmt: skip
    store = Store(_uri(world_db), world_db.name)
    engine = app.state.engine
    try:
        matcher = jobagent.AgentMatcher(engine)
        await jobagent.run_once(store.db, engine, DIRECTORY, matcher, "test", now=now)
        created = await _ok(
            client,
            "mutation($input: JobPostingInput!) { createJobPosting(input: $input) { id } }",
            EMPLOYER,
            input={"title": "Lagermedarbejder", "occupationId": WAREHOUSE_WORKER,
                   "description": "Vi søger en lagermedarbejder til vores lager i Aarhus.",
                   "postalCode": "8200",
                   "deadline": (now + timedelta(days=20)).date().isoformat()},
        )  # fmt: skip
        ids["alerted_posting"] = created["createJobPosting"]["id"]
        later = datetime.now(UTC) + timedelta(seconds=1)
        figures = await jobagent.run_once(store.db, engine, DIRECTORY, matcher, "test", now=later)
        assert figures["instant"] >= 1, figures
        # The citizen's meeting an hour ahead: the reminder (and its claim on the meeting).
        coming_doc = world_db.meetings.find_one({"_id": ids["coming"]})
        assert await send_reminders(store.db, coming_doc["startsAt"] - timedelta(minutes=50)) >= 1
        # Tomorrow at noon (Danish time): outside the citizen's quiet hours.
        noon = (now + timedelta(days=1)).replace(hour=11, minute=0, second=0, microsecond=0)
        await drain_once(store.db, LocalTransport(), DIRECTORY, "test-worker",
                         timedelta(seconds=30), now=noon)  # fmt: skip
    finally:
        await store.close()
    await _ok(client, """mutation($id: ID!, $reason: String) { cancelMeeting(id: $id,
              reason: $reason) { id } }""", CITIZEN, id=ids["coming"], reason=SECRETS["cancel"])  # fmt: skip
    return ids
