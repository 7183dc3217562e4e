"""Joblog, saved jobs, the CV view log, Mine data, the export, erasure, and who may reach what."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jsonschema
import pytest

from api.auth.actor import Role
from api.indexes import all_index_specs
from seed.demo import (
    DEMO_CANDIDATE_IDS,
    DEMO_CITIZEN_ID,
    DEMO_COMPANY_CVR,
    DEMO_EMPLOYER_ID,
)
from store import collections as c
from store.personal_data import HOLDINGS, NOT_CITIZEN_DATA, unregistered
from tests.conftest import error_codes, gql, token_for

ROOT = Path(__file__).resolve().parents[2]
EXPORT_SCHEMA = json.loads((ROOT / "mobile_contract" / "my-data.schema.json").read_text())

CANDIDATE = DEMO_CANDIDATE_IDS[0]  # has a meeting request to the demo company's offer
CANDIDATE_TOKEN = token_for(CANDIDATE)
DEMO = token_for(DEMO_CITIZEN_ID)
OTHER_ID = DEMO_CANDIDATE_IDS[2]  # a citizen with a profile and an empty joblog
OTHER = token_for(OTHER_ID)
EMPLOYER = token_for(DEMO_EMPLOYER_ID, Role.EMPLOYER, DEMO_COMPANY_CVR)
OTHER_EMPLOYER = token_for("anden-arbejdsgiver", Role.EMPLOYER, "29403473")

ADD = """mutation($input: JobApplicationInput!) { addJobApplication(input: $input) {
  id appliedOn kind form status companyName jobTitle note source posting { id } } }"""
LIST = """query($first: Int!, $after: String) { jobApplications(first: $first, after: $after) {
  edges { node { id appliedOn companyName source } } pageInfo { hasNextPage endCursor } } }"""
CANDIDATE_Q = """query($id: ID!) { meetingRequestCandidate(requestId: $id) {
  initial name email phone distanceBand skills experience { title months } } }"""
VIEWS = """{ cvViews(first: 10) { edges { node { companyName companyCvr reason reasonText
  offerTitle viewedAt } } } }"""


@pytest.fixture
def client(world_client):
    return world_client


def request_of(db, citizen_id: str) -> dict:
    return db.meeting_requests.find_one({"citizenId": citizen_id})


def a_posting(db) -> dict:
    return db.postings.find_one({"_id": {"$regex": "^demo-opslag"}})


# --- joblog and saved jobs ------------------------------------------------------------------
async def test_joblog_add_list_edit_delete(client, world_db):
    today = datetime.now(UTC).date()
    ids = []
    for days in (3, 1, 2):
        entry = {
            "appliedOn": (today - timedelta(days=days)).isoformat(),
            "form": "EMAIL",
            "kind": "UNSOLICITED",
            "companyName": f"Firma {days}",
            "jobTitle": "Lagermedarbejder",
            "note": "Ringede først",
        }
        result = await gql(client, ADD, token=OTHER, variables={"input": entry})
        assert "errors" not in result, result
        assert result["data"]["addJobApplication"]["source"] == "MANUAL"
        ids.append(result["data"]["addJobApplication"]["id"])
    page = (await gql(client, LIST, token=OTHER, variables={"first": 2}))["data"]
    names = [e["node"]["companyName"] for e in page["jobApplications"]["edges"]]
    assert names == ["Firma 1", "Firma 2"] and page["jobApplications"]["pageInfo"]["hasNextPage"]
    after = page["jobApplications"]["pageInfo"]["endCursor"]
    rest = (await gql(client, LIST, token=OTHER, variables={"first": 2, "after": after}))["data"]
    assert [e["node"]["companyName"] for e in rest["jobApplications"]["edges"]] == ["Firma 3"]

    edit = """mutation($id: ID!, $input: JobApplicationInput!) { updateJobApplication(id: $id,
      input: $input) { status note } }"""
    changed = {"appliedOn": today.isoformat(), "form": "EMAIL", "kind": "UNSOLICITED",
               "companyName": "Firma 1", "jobTitle": "Lagermedarbejder", "status": "INTERVIEW"}  # fmt: skip
    result = await gql(client, edit, token=OTHER, variables={"id": ids[1], "input": changed})
    # Updates are partial (contract 0.2): the note left out stays.
    assert result["data"]["updateJobApplication"] == {
        "status": "INTERVIEW",
        "note": "Ringede først",
    }
    # Invalid edits change nothing.
    future = changed | {"appliedOn": (today + timedelta(days=2)).isoformat(), "status": "HIRED"}
    result = await gql(client, edit, token=OTHER, variables={"id": ids[1], "input": future})
    assert error_codes(result) == ["BAD_USER_INPUT"]
    assert world_db.joblog.find_one({"_id": ids[1]})["status"] == "INTERVIEW"
    delete = "mutation($id: ID!) { deleteJobApplication(id: $id) }"
    assert (await gql(client, delete, token=OTHER, variables={"id": ids[0]}))["data"]
    assert world_db.joblog.count_documents({"citizenId": OTHER_ID}) == 2
    again = await gql(client, delete, token=OTHER, variables={"id": ids[0]})
    assert error_codes(again) == ["NOT_FOUND"]


async def test_applying_in_the_app_logs_once_and_stops_suggesting_the_posting(client, world_db):
    jobs = "{ recommendedJobs(first: 50) { edges { node { posting { id } } } } }"
    suggested = await gql(client, jobs, token=OTHER)
    first = suggested["data"]["recommendedJobs"]["edges"][0]["node"]["posting"]["id"]
    apply = """mutation($id: ID!) { applyToJob(postingId: $id) { id source kind status
      companyName jobTitle posting { id } } }"""
    one = await gql(client, apply, token=OTHER, variables={"id": first})
    two = await gql(client, apply, token=OTHER, variables={"id": first})
    assert one["data"]["applyToJob"] == two["data"]["applyToJob"]
    assert one["data"]["applyToJob"]["source"] == "APP"
    assert one["data"]["applyToJob"]["posting"]["id"] == first
    assert world_db.joblog.count_documents({"citizenId": OTHER_ID}) == 1
    after = await gql(client, jobs, token=OTHER)
    ids = [e["node"]["posting"]["id"] for e in after["data"]["recommendedJobs"]["edges"]]
    assert first not in ids


async def test_a_held_meeting_adds_one_joblog_entry(world_db, world_client):
    from api.joblog.service import record_meeting_held
    from store.client import Store

    store = Store(world_db.client.address and _uri(world_db), world_db.name)
    try:
        for _ in range(2):
            await record_meeting_held(
                store.db, citizen_id=DEMO_CITIZEN_ID, meeting_id="m-1",
                company_cvr=DEMO_COMPANY_CVR, company_name="Østjysk Lager & Logistik ApS",
                title="Kaffemøde: Lagermedarbejder", held_on=datetime.now(UTC).date(), video=False,
            )  # fmt: skip
    finally:
        await store.close()
    entries = list(world_db.joblog.find({"citizenId": DEMO_CITIZEN_ID, "source": "MEETING"}))
    assert [(e["source"], e["form"], e["status"]) for e in entries] == [
        ("MEETING", "IN_PERSON", "INTERVIEW")
    ]
    listed = await gql(world_client, LIST, token=DEMO, variables={"first": 5})
    sources = [e["node"]["source"] for e in listed["data"]["jobApplications"]["edges"]]
    assert sources[0] == "MEETING" and sources.count("MEETING") == 1  # today's, then the demo's


def _uri(db) -> str:
    host, port = db.client.address
    return f"mongodb://{host}:{port}/"


async def test_save_and_unsave_jobs(client, world_db):
    posting = a_posting(world_db)
    save = "mutation($id: ID!) { saveJob(postingId: $id) { savedAt posting { id title } } }"
    one = await gql(client, save, token=DEMO, variables={"id": posting["_id"]})
    two = await gql(client, save, token=DEMO, variables={"id": posting["_id"]})
    assert one["data"]["saveJob"] == two["data"]["saveJob"]  # idempotent, first time kept
    listed = await gql(
        client, "{ savedJobs(first: 5) { edges { node { posting { id } } } } }", token=DEMO
    )
    assert [e["node"]["posting"]["id"] for e in listed["data"]["savedJobs"]["edges"]] == [
        posting["_id"]
    ]
    missing = await gql(client, save, token=DEMO, variables={"id": "findes-ikke"})
    assert error_codes(missing) == ["NOT_FOUND"]
    unsave = "mutation($id: ID!) { unsaveJob(postingId: $id) }"
    assert (await gql(client, unsave, token=DEMO, variables={"id": posting["_id"]}))["data"][
        "unsaveJob"
    ]
    assert error_codes(await gql(client, unsave, token=DEMO, variables={"id": posting["_id"]})) == [
        "NOT_FOUND"
    ]


# --- the employer's view and the CV view log ------------------------------------------------
async def test_employer_sees_a_pseudonymous_candidate_and_the_view_is_logged(client, world_db):
    request = request_of(world_db, CANDIDATE)
    citizen = world_db.citizens.find_one({"_id": CANDIDATE})
    result = await gql(client, CANDIDATE_Q, token=EMPLOYER, variables={"id": request["_id"]})
    assert "errors" not in result, result
    seen = result["data"]["meetingRequestCandidate"]
    assert seen["initial"] == citizen["firstName"][0] + "."
    assert seen["name"] is None and seen["email"] is None and seen["phone"] is None
    assert seen["distanceBand"] and seen["experience"]
    assert world_db.meeting_requests.find_one({"_id": request["_id"]})["status"] == "SEEN"
    views = (await gql(client, VIEWS, token=CANDIDATE_TOKEN))["data"]["cvViews"]["edges"]
    assert len(views) == 1
    view = views[0]["node"]
    assert view["companyCvr"] == DEMO_COMPANY_CVR and view["reason"] == "MEETING_REQUEST"
    assert view["reasonText"].startswith("Åbnede din anmodning om kaffemøde")
    # Another citizen's log is their own.
    assert (await gql(client, VIEWS, token=DEMO))["data"]["cvViews"]["edges"] == []


async def test_named_visibility_shows_the_name_but_not_contact_details(client, world_db):
    world_db.citizens.update_one(
        {"_id": CANDIDATE}, {"$set": {"consents.employerVisibility": "NAMED"}}
    )
    request = request_of(world_db, CANDIDATE)
    citizen = world_db.citizens.find_one({"_id": CANDIDATE})
    seen = await gql(client, CANDIDATE_Q, token=EMPLOYER, variables={"id": request["_id"]})
    node = seen["data"]["meetingRequestCandidate"]
    assert node["name"] == f"{citizen['firstName']} {citizen['lastName']}"
    assert node["email"] is None and node["phone"] is None
    # After acceptance, contact details follow (while the meeting is on).
    world_db.meeting_requests.update_one({"_id": request["_id"]}, {"$set": {"status": "ACCEPTED"}})
    starts = datetime.now(UTC) + timedelta(days=1)
    world_db.meetings.insert_one({"_id": "møde-1", "requestId": request["_id"],
                                  "status": "SCHEDULED", "startsAt": starts,
                                  "endsAt": starts + timedelta(minutes=25)})  # fmt: skip
    seen = await gql(client, CANDIDATE_Q, token=EMPLOYER, variables={"id": request["_id"]})
    assert seen["data"]["meetingRequestCandidate"]["email"] == citizen["email"]


# --- who may reach what ---------------------------------------------------------------------
CITIZEN_OPERATIONS = [
    "{ myProfile { id } }",
    "{ myCvs { id } }",
    '{ cv(id: "x") { id } }',
    "{ consentHistory(first: 1) { edges { cursor } } }",
    "{ jobApplications(first: 1) { edges { cursor } } }",
    "{ savedJobs(first: 1) { edges { cursor } } }",
    "{ cvViews(first: 1) { edges { cursor } } }",
    "{ myData { exportFormat } }",
    "{ exportMyData }",
    'mutation { updateMyProfile(input: {firstName: "A", lastName: "B", postalCode: "8000"}) { id } }',
    "mutation { updateMyJobPreferences(input: {radiusKm: 10}) { id } }",
    "mutation { updateMyPrivacySettings(input: {profiling: false}) { id } }",
    "mutation { createCv(input: {}) { id } }",
    'mutation { updateCv(id: "x", input: {}) { id } }',
    'mutation { duplicateCv(id: "x", name: "y") { id } }',
    'mutation { setPrimaryCv(id: "x") { id } }',
    'mutation { deleteCv(id: "x") }',
    'mutation { addJobApplication(input: {appliedOn: "2026-01-01", form: EMAIL}) { id } }',
    'mutation { updateJobApplication(id: "x", input: {appliedOn: "2026-01-01", form: EMAIL}) { id } }',
    'mutation { deleteJobApplication(id: "x") }',
    'mutation { applyToJob(postingId: "x") { id } }',
    'mutation { saveJob(postingId: "x") { savedAt } }',
    'mutation { unsaveJob(postingId: "x") }',
    "mutation { deleteMyAccount(confirm: true) { deletedAt } }",
]


@pytest.mark.parametrize("operation", CITIZEN_OPERATIONS)
async def test_citizen_data_is_closed_to_employers_and_anonymous_callers(
    client, world_db, operation
):
    before = {name: world_db[name].count_documents({}) for name in world_db.list_collection_names()}
    assert error_codes(await gql(client, operation, token=EMPLOYER)) == ["FORBIDDEN"]
    assert error_codes(await gql(client, operation)) == ["UNAUTHENTICATED"]
    after = {name: world_db[name].count_documents({}) for name in world_db.list_collection_names()}
    assert after == before


async def test_a_citizen_cannot_reach_another_citizens_records(client, world_db):
    theirs_cv = world_db.cvs.find_one({"citizenId": CANDIDATE})
    for op in (
        '{ cv(id: "%s") { id } }',
        'mutation { updateCv(id: "%s", input: {}) { id } }',
        'mutation { setPrimaryCv(id: "%s") { id } }',
        'mutation { deleteCv(id: "%s") }',
    ):
        assert error_codes(await gql(client, op % theirs_cv["_id"], token=DEMO)) == ["NOT_FOUND"]
    assert world_db.cvs.find_one({"_id": theirs_cv["_id"]}) == theirs_cv
    entry = await gql(
        client, ADD, token=CANDIDATE_TOKEN,
        variables={"input": {"appliedOn": "2026-01-05", "form": "EMAIL", "kind": "UNSOLICITED",
                             "companyName": "Firma", "jobTitle": "Chauffør"}},
    )  # fmt: skip
    entry_id = entry["data"]["addJobApplication"]["id"]
    for op in (
        'mutation { updateJobApplication(id: "%s", input: {appliedOn: "2026-01-01", '
        'form: EMAIL, companyName: "X", jobTitle: "Y"}) { id } }',
        'mutation { deleteJobApplication(id: "%s") }',
    ):
        assert error_codes(await gql(client, op % entry_id, token=DEMO)) == ["NOT_FOUND"]
    assert world_db.joblog.find_one({"_id": entry_id})["companyName"] == "Firma"
    # The employer-only candidate view is closed to citizens, and to other companies.
    request = request_of(world_db, CANDIDATE)
    assert error_codes(
        await gql(client, CANDIDATE_Q, token=CANDIDATE_TOKEN, variables={"id": request["_id"]})
    ) == ["FORBIDDEN"]
    assert error_codes(
        await gql(client, CANDIDATE_Q, token=OTHER_EMPLOYER, variables={"id": request["_id"]})
    ) == ["NOT_FOUND"]
    assert world_db.cv_views.count_documents({}) == 0  # refused looks are not "views"
    assert error_codes(await gql(client, CANDIDATE_Q, variables={"id": request["_id"]})) == [
        "UNAUTHENTICATED"
    ]


# --- Mine data and the export ---------------------------------------------------------------
async def populate(client, world_db, token, citizen_id) -> None:
    """Give the citizen data of every kind the API can make."""
    posting = a_posting(world_db)
    cv = world_db.cvs.find_one({"citizenId": citizen_id, "primary": True})
    own_cv = {"name": "Mit CV", "skills": ["gaffeltruck"], "workHistory": [{
        "title": "Lagerarbejder", "employer": "Egen Arbejdsplads 5521", "start": "2020-01",
        "end": "2024-01", "description": "Unik beskrivelse 9137"}]}  # fmt: skip
    ops = [
        (
            "mutation($id: ID!, $input: CvInput!) { updateCv(id: $id, input: $input) { id } }",
            {"id": cv["_id"], "input": own_cv},
        ),
        ("mutation($id: ID!) { saveJob(postingId: $id) { savedAt } }", {"id": posting["_id"]}),
        ("mutation($id: ID!) { applyToJob(postingId: $id) { id } }", {"id": posting["_id"]}),
        (
            "mutation($id: ID!) { markJobNotInterested(postingId: $id, reason: TOO_FAR) { reason } }",
            {"id": world_db.postings.find_one({"_id": {"$regex": "^(?!demo)"}})["_id"]},
        ),
        ("mutation { updateMyPrivacySettings(input: {employerVisibility: NAMED}) { id } }", {}),
        ("{ recommendedJobs(first: 1) { profiling } }", {}),  # embeds the profile
        ("{ jobAgent { cadence } }", {}),  # makes the basic job agent
        (
            "mutation($t: String!) { registerDevice(input: {token: $t, platform: ANDROID, "
            'appVersion: "1.0", installationId: "cMyDataPhone0000000001"}) { platform } }',
            {"t": f"token-{citizen_id}"},
        ),
        (
            ADD,
            {
                "input": {
                    "appliedOn": "2026-02-01",
                    "form": "PHONE",
                    "kind": "UNSOLICITED",
                    "companyName": "Hemmelig Note ApS",
                    "jobTitle": "Pakker",
                    "note": "Personlig note 4711",
                }
            },
        ),
    ]
    for op, variables in ops:
        result = await gql(client, op, token=token, variables=variables)
        assert "errors" not in result, result
    request = request_of(world_db, citizen_id)
    if request is not None:
        await gql(client, CANDIDATE_Q, token=EMPLOYER, variables={"id": request["_id"]})


async def test_my_data_counts_every_purpose_and_the_export_matches_its_schema(client, world_db):
    await populate(client, world_db, CANDIDATE_TOKEN, CANDIDATE)
    result = await gql(client, "{ myData { exportFormat sections { purpose title why records } } }",
                       token=CANDIDATE_TOKEN)  # fmt: skip
    sections = {s["purpose"]: s for s in result["data"]["myData"]["sections"]}
    assert {h.purpose.key for h in HOLDINGS} == set(sections)
    counts = {k: v["records"] for k, v in sections.items()}
    assert counts["profile"] == 1 and counts["cvs"] == 1 and counts["profiling"] == 1
    assert counts["joblog"] == 2 and counts["savedJobs"] == 1 and counts["jobAnswers"] == 1
    assert counts["cvViews"] == 1 and counts["meetingRequests"] == 1
    assert counts["consents"] == 7  # six at sign-up, one change
    assert counts["devices"] == 1 and counts["jobAgent"] == 1
    assert sections["cvViews"]["title"] == "Hvem har set mit CV"

    export = (await gql(client, "{ exportMyData }", token=CANDIDATE_TOKEN))["data"]["exportMyData"]
    jsonschema.validate(export, EXPORT_SCHEMA)
    records = {s["purpose"]: s["records"] for s in export["sections"]}
    assert records["profile"]["citizens"][0]["_id"] == CANDIDATE
    assert len(records["profiling"]["profile_vectors"][0]["v"]) == 384
    assert records["joblog"]["joblog"][0]["citizenId"] == CANDIDATE
    # Every collection the register names appears, so nothing held is left out.
    listed = {name for s in export["sections"] for name in s["records"]}
    assert listed == {h.collection for h in HOLDINGS}
    english = await gql(client, "{ myData { sections { title } } }", token=CANDIDATE_TOKEN,
                        headers={"Accept-Language": "en"})  # fmt: skip
    assert "Who viewed my CV" in {s["title"] for s in english["data"]["myData"]["sections"]}


# --- erasure --------------------------------------------------------------------------------
def register_covers(names) -> None:
    assert unregistered(list(names)) == [], "register these in store/personal_data.py"


def test_every_declared_collection_is_in_the_register():
    register_covers(c.all_names())
    assert not ({h.collection for h in HOLDINGS} & set(NOT_CITIZEN_DATA))


def test_every_holding_is_found_through_an_index():
    first_keys = {(s.collection, s.keys[0][0]) for s in all_index_specs()}
    for h in HOLDINGS:
        assert h.owner == "_id" or (h.collection, h.owner) in first_keys, h


def _strings(value, out: list[str]) -> list[str]:
    if isinstance(value, dict):
        for k, v in value.items():
            out.append(str(k))
            _strings(v, out)
    elif isinstance(value, list | tuple):
        for v in value:
            _strings(v, out)
    elif isinstance(value, str):
        out.append(value)
    return out


async def test_delete_my_account_leaves_nothing_personal_in_any_collection(client, world_db):
    await populate(client, world_db, CANDIDATE_TOKEN, CANDIDATE)
    citizen = world_db.citizens.find_one({"_id": CANDIDATE})
    cv = world_db.cvs.find_one({"citizenId": CANDIDATE})
    request = request_of(world_db, CANDIDATE)
    # What identifies the citizen or was written by them.
    needles = {
        CANDIDATE, citizen["email"], citizen["phone"], cv["_id"], f"token-{CANDIDATE}",
        f"{citizen['firstName']} {citizen['lastName']}", "Personlig note 4711",
        "Unik beskrivelse 9137", "Egen Arbejdsplads 5521",
    }  # fmt: skip
    needles = {n for n in needles if n}
    refused = await gql(client, "mutation { deleteMyAccount(confirm: false) { deletedAt } }",
                        token=CANDIDATE_TOKEN)  # fmt: skip
    assert error_codes(refused) == ["BAD_USER_INPUT"]
    assert world_db.citizens.find_one({"_id": CANDIDATE}) is not None

    result = await gql(
        client,
        "mutation { deleteMyAccount(confirm: true) { deletedAt withdrawnMeetingRequests recordsErased } }",
        token=CANDIDATE_TOKEN,
    )
    assert "errors" not in result, result
    receipt = result["data"]["deleteMyAccount"]
    assert receipt["withdrawnMeetingRequests"] == 1 and receipt["recordsErased"] >= 10

    # Every collection in the database, whatever its name, is searched.
    names = world_db.list_collection_names()
    register_covers(names)
    for name in names:
        for doc in world_db[name].find():
            text = _strings(doc, [])
            hits = [n for n in needles if any(n in t for t in text)]
            assert not hits, f"{name} still holds {hits}: {doc}"

    # The company keeps only that a request existed and how it ended, and was told.
    kept = world_db.meeting_requests.find_one({"_id": request["_id"]})
    assert kept["status"] == "WITHDRAWN" and kept["closeReason"] == "ACCOUNT_DELETED"
    assert kept["citizenId"].startswith("anonym-")
    notice = world_db.inbox.find_one({"recipientId": DEMO_EMPLOYER_ID})
    assert notice["key"] == f"request-withdrawn:{request['_id']}"
    assert "trukket sin anmodning" in notice["body"]
    assert world_db.outbox.count_documents({"recipientId": DEMO_EMPLOYER_ID}) == 1
    assert world_db.anonymous_stats.find_one()["count"] == 1
    # The other citizens are untouched.
    assert world_db.citizens.find_one({"_id": DEMO_CANDIDATE_IDS[1]}) is not None
    assert request_of(world_db, DEMO_CANDIDATE_IDS[1])["status"] in ("PENDING", "SEEN")
    # The account is gone: its token is refused, and only an unlinkable tombstone stays.
    after = await gql(client, "{ myProfile { id } myData { sections { records } } }",
                      token=CANDIDATE_TOKEN)  # fmt: skip
    assert set(error_codes(after)) == {"UNAUTHENTICATED"}
    assert {e["extensions"]["reason"] for e in after["errors"]} == {"ACCOUNT_DELETED"}
    (grave,) = world_db.deleted_accounts.find()
    assert grave["signIn"] == "DELETED" and "pendingUid" not in grave


async def test_a_confirmed_meeting_is_cancelled_on_erasure_and_its_seat_freed(client, world_db):
    request = request_of(world_db, CANDIDATE)
    offer = world_db.offers.find_one({"_id": request["offerId"]})
    slot = offer["slots"][0]
    accept = """mutation($id: ID!, $slot: ID!) { acceptMeetingRequest(id: $id, slotId: $slot) {
      id status } }"""
    accepted = await gql(client, accept, token=EMPLOYER,
                         variables={"id": request["_id"], "slot": slot["_id"]})  # fmt: skip
    assert accepted["data"]["acceptMeetingRequest"]["status"] == "SCHEDULED", accepted
    meeting_id = accepted["data"]["acceptMeetingRequest"]["id"]
    booked = world_db.offers.find_one({"_id": offer["_id"]})["slots"][0]["booked"]
    assert booked == slot["booked"] + 1
    result = await gql(client, "mutation { deleteMyAccount(confirm: true) { withdrawnMeetingRequests } }",
                       token=CANDIDATE_TOKEN)  # fmt: skip
    assert result["data"]["deleteMyAccount"]["withdrawnMeetingRequests"] == 1
    assert world_db.offers.find_one({"_id": offer["_id"]})["slots"][0]["booked"] == slot["booked"]
    meeting = world_db.meetings.find_one({"_id": meeting_id})
    assert meeting["status"] == "CANCELLED" and meeting["closeReason"] == "ACCOUNT_DELETED"
    assert meeting["citizenId"].startswith("anonym-") and "history" not in meeting
    notice = world_db.inbox.find_one(
        {"recipientId": DEMO_EMPLOYER_ID, "key": {"$regex": "^meeting-cancelled"}}
    )
    assert notice["title"] == "Kaffemøde aflyst" and "Kandidaten" in notice["body"]


async def test_lists_cost_a_fixed_number_of_queries(client, world_db, command_counter):
    """Pages of joblog and saved jobs load their postings in one batch, and Mine data costs
    one count per registered collection, however much the citizen has."""
    postings = [p["_id"] for p in world_db.postings.find({}, {"_id": 1}).limit(12)]
    for pid in postings:
        await gql(client, "mutation($id: ID!) { saveJob(postingId: $id) { savedAt } }",
                  token=OTHER, variables={"id": pid})  # fmt: skip
        await gql(client, "mutation($id: ID!) { applyToJob(postingId: $id) { id } }",
                  token=OTHER, variables={"id": pid})  # fmt: skip
    command_counter.reset()
    saved = await gql(client, "{ savedJobs(first: 20) { edges { node { posting { title } } } } }",
                      token=OTHER)  # fmt: skip
    assert len(saved["data"]["savedJobs"]["edges"]) == 12
    assert command_counter.count("find") == 2  # the page, then the postings in one $in
    command_counter.reset()
    log = await gql(client, "{ jobApplications(first: 20) { edges { node { posting { title } } } } }",
                    token=OTHER)  # fmt: skip
    assert len(log["data"]["jobApplications"]["edges"]) == 12
    assert command_counter.count("find") == 2
    command_counter.reset()
    await gql(client, "{ myData { sections { records } } }", token=OTHER)
    assert command_counter.count("aggregate") + command_counter.count("count") == len(HOLDINGS)
    assert command_counter.count("find") == 0


# --- a citizen who used every feature --------------------------------------------------------
def _undocumented(node: dict, path: str, out: list[str]) -> list[str]:
    """Paths in the schema where a field has no description, or an object or a list does not
    say what it holds (so anything could pass unseen)."""
    types = node.get("type") if isinstance(node.get("type"), list) else [node.get("type")]
    open_object = not isinstance(node.get("additionalProperties"), dict)
    if "object" in types and "properties" not in node and open_object:
        out.append(f"{path} (what does it hold?)")
    if "array" in types and "items" not in node:
        out.append(f"{path}[] (what does it hold?)")
    for name, prop in (node.get("properties") or {}).items():
        if not {"description", "$ref", "const"} & set(prop):
            out.append(f"{path}.{name}")
        _undocumented(prop, f"{path}.{name}", out)
    for key, suffix in (("items", "[]"), ("additionalProperties", ".*")):
        if isinstance(node.get(key), dict):
            _undocumented(node[key], path + suffix, out)
    return out


def test_the_export_schema_describes_every_field():
    missing = []
    for name, definition in EXPORT_SCHEMA["$defs"].items():
        if name != "section":
            _undocumented(definition, name, missing)
    assert missing == [], "describe these in mobile_contract/my-data.schema.json: " + ", ".join(
        missing
    )


def export_errors(export: dict) -> list[str]:
    validator = jsonschema.Draft202012Validator(
        EXPORT_SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    return sorted(
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(export)
    )


async def test_the_export_of_a_citizen_who_used_every_feature_matches_its_schema(
    client, world_db, app
):
    from tests.api.every_feature import CITIZEN, CITIZEN_ID, use_every_feature

    await use_every_feature(client, world_db, app)
    export = (await gql(client, "{ exportMyData }", token=CITIZEN))["data"]["exportMyData"]
    errors = export_errors(export)
    assert errors == [], "\n".join(errors)
    assert export["citizenId"] == CITIZEN_ID
    # Every kind of record the register names is in this export, so the schema was tried on
    # each of them.
    held = {name: len(docs) for s in export["sections"] for name, docs in s["records"].items()}
    assert sorted(name for name, n in held.items() if n == 0) == []
    # And every other citizen's export (the seeded ones, each made differently) agrees too.
    for citizen in world_db.citizens.find({"_id": {"$ne": CITIZEN_ID}}, {"_id": 1}):
        result = await gql(client, "{ exportMyData }", token=token_for(citizen["_id"]))
        errors = export_errors(result["data"]["exportMyData"])
        assert errors == [], f"{citizen['_id']}: " + "\n".join(errors)
