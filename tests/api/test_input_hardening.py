"""Every input answered cleanly (issue 16, M3, L2, L4): lone surrogates, NUL and other control
characters, bidi-override and zero-width characters, dates far outside any window, lists of
10,000 items and forged paging cursors answer BAD_USER_INPUT with a Danish message (English
for ``Accept-Language: en``), write nothing and log no traceback. Before, several of them
answered INTERNAL_SERVER_ERROR (UnicodeEncodeError, OverflowError) or were stored as sent."""

from __future__ import annotations

import base64
import json
import logging
from datetime import UTC, date, datetime, timedelta

import pytest

from seed.demo import DEMO_CITIZEN_ID, DEMO_OFFER_IDS, WAREHOUSE_WORKER
from tests.api.meetings.helpers import CITIZEN, EMPLOYER
from tests.conftest import error_codes


@pytest.fixture
def client(world_client):
    return world_client


@pytest.fixture
def clean_log(caplog):
    """After the test: nothing was logged as an error and no traceback."""
    caplog.set_level(logging.INFO)
    yield caplog
    bad = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert not bad, [r.getMessage() for r in bad]


async def post(client, query: str, variables: dict | None = None, *, token: str = CITIZEN,
               lang: str | None = None, statuses=(200,)) -> tuple[dict, int]:  # fmt: skip
    """Sent as the app's JSON (lone surrogates travel as \\ud800 escapes)."""
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    if lang:
        headers["Accept-Language"] = lang
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    response = await client.post("/graphql", content=body, headers=headers)
    assert response.status_code in statuses, response.text
    return response.json(), len(response.content)


def refused(result: dict, *fields: str) -> dict:
    """The one BAD_USER_INPUT error of ``result`` (naming ``fields`` when given)."""
    assert error_codes(result) == ["BAD_USER_INPUT"], result
    error = result["errors"][0]
    assert "INTERNAL" not in json.dumps(result)
    if fields:
        assert {f["field"] for f in error["extensions"]["fields"]} == set(fields), error
    return error


def snapshot(world_db) -> dict:
    """What the attacks below could have written."""
    return {
        "citizen": world_db.citizens.find_one({"_id": DEMO_CITIZEN_ID}),
        "cvs": world_db.cvs.count_documents({}),
        "saved": world_db.saved_jobs.count_documents({}),
        "offers": list(world_db.offers.find({}).sort("_id", 1)),
        "postings": world_db.postings.count_documents({}),
        "consents": world_db.consent_events.count_documents({}),
        "prefs": world_db.notification_prefs.count_documents({}),
    }


PROFILE = "mutation($i: ProfileInput!) { updateMyProfile(input: $i) { id firstName lastName } }"
NAME = {"firstName": "Sara", "lastName": "Holm", "postalCode": "8000"}
SAVE = "mutation($id: ID!) { saveJob(postingId: $id) { postingId } }"
OCCUPATION = "query($id: ID!) { occupation(id: $id) { id } }"
CREATE_CV = "mutation($i: CvInput!) { createCv(input: $i) { id } }"
CREATE_OFFER = "mutation($i: OfferInput!) { createOffer(input: $i) { id } }"
ADD_SLOTS = """mutation($id: ID!, $slots: [OfferSlotInput!]!) {
  addOfferSlots(id: $id, slots: $slots) { id } }"""
CREATE_POSTING = "mutation($i: JobPostingInput!) { createJobPosting(input: $i) { id hours } }"
PREFERENCES = """mutation($i: JobPreferencesInput!) {
  updateMyJobPreferences(input: $i) { preferences { earliestStart } } }"""
PRIVACY = """mutation($i: PrivacySettingsInput!) {
  updateMyPrivacySettings(input: $i) { privacy { profiling } } }"""
NOTIFICATION_PREFS = """mutation($i: NotificationPreferencesInput!) {
  updateNotificationPreferences(input: $i) { dailyCap } }"""


def in_days(days: int) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


def offer(**changes) -> dict:
    return {
        "title": "Kaffemøde: Pakkeri",
        "pitch": "Kom og hør om vores pakkeri.",
        "targetOccupationIds": [WAREHOUSE_WORKER],
        "mode": "IN_PERSON",
        "address": "Lagervej 12",
        "postalCode": "8200",
        "slots": [{"startsAt": in_days(3), "capacity": 1}],
    } | changes


def posting(**changes) -> dict:
    deadline = (date.today() + timedelta(days=30)).isoformat()
    return {
        "title": "Lagermedarbejder",
        "description": "Pluk og pak ordrer.",
        "occupationId": WAREHOUSE_WORKER,
        "postalCode": "8000",
        "deadline": deadline,
    } | changes


# --- text: lone surrogates and control characters (M3) -----------------------------------------
def _posting_id(world_db) -> str:
    return world_db.postings.find_one({}, sort=[("_id", 1)])["_id"]


TEXT_ATTACKS = {
    "profile-surrogate": (PROFILE, {"i": NAME | {"firstName": "Sa\ud800ra"}}, "firstName"),
    "profile-key-surrogate": (PROFILE, {"i": NAME | {"\udfff": "x"}}, "i"),
    "profile-nul": (PROFILE, {"i": NAME | {"lastName": "Ho\x00lm"}}, "lastName"),
    "save-job-surrogate": (SAVE, {"id": "\ud800"}, "id"),
    "occupation-surrogate": (OCCUPATION, {"id": "\ud800"}, "id"),
    "occupation-escape": (OCCUPATION, {"id": "a\x1bb"}, "id"),
    "literal-nul": ('{ occupation(id: "a\\u0000b") { id } }', {}, "query"),
    "literal-raw-nul": ('{ occupation(id: "a\x00b") { id } }', {}, "query"),
}


@pytest.mark.parametrize("name", list(TEXT_ATTACKS))
async def test_lone_surrogates_and_control_characters_are_refused_everywhere(
    client, world_db, clean_log, name
):
    query, variables, field = TEXT_ATTACKS[name]
    before = snapshot(world_db)
    result, _ = await post(client, query, variables)
    error = refused(result, field)
    assert "ikke er tilladt" in error["message"]
    assert snapshot(world_db) == before


async def test_the_refusal_is_english_under_accept_language_en(client):
    result, _ = await post(client, SAVE, {"id": "\ud800"}, lang="en")
    assert refused(result)["message"] == (
        "id: contains characters that are not allowed (control or invalid Unicode characters)."
    )


# --- text: names and free text (L4) --------------------------------------------------------------
@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"firstName": "\u202eSara"}, "firstName"),  # right-to-left override
        ({"firstName": "Sa\u2066ra"}, "firstName"),  # left-to-right isolate
        ({"lastName": "Ho\u200blm"}, "lastName"),  # zero-width space
        ({"lastName": "Holm\ufeff"}, "lastName"),  # byte-order mark
        ({"town": "Aar\thus"}, "town"),  # a tab in a single-line field
        ({"town": "Aar\u0085hus"}, "town"),  # NEL, a C1 control
        ({"firstName": "1Sara"}, "firstName"),  # the initial companies see must be a letter
        ({"firstName": "-Sara"}, "firstName"),
    ],
)
async def test_names_hold_no_invisible_or_direction_characters(
    client, world_db, clean_log, changes, field
):
    before = snapshot(world_db)
    result, _ = await post(client, PROFILE, {"i": NAME | changes})
    refused(result, field)
    assert snapshot(world_db) == before


async def test_text_is_stored_nfc_and_multi_line_text_keeps_its_line_breaks(client, world_db):
    decomposed = "Jose\u0301"  # e + combining acute
    result, _ = await post(client, PROFILE, {"i": NAME | {"firstName": decomposed}})
    assert result["data"]["updateMyProfile"]["firstName"] == "José"
    assert world_db.citizens.find_one({"_id": DEMO_CITIZEN_ID})["firstName"] == "José"
    cv = {"workHistory": [{"title": "Lagermedarbejder", "start": "2020-01",
                           "description": "Pluk\r\nPak\tScan"}]}  # fmt: skip
    result, _ = await post(client, CREATE_CV, {"i": cv})
    stored = world_db.cvs.find_one({"_id": result["data"]["createCv"]["id"]})
    assert stored["workHistory"][0]["description"] == "Pluk\nPak\tScan"
    # A direction override is refused in multi-line text too.
    result, _ = await post(client, CREATE_OFFER, {"i": offer(pitch="Kom\n\u202eforbi")},
                           token=EMPLOYER)  # fmt: skip
    refused(result, "pitch")


# --- dates (M3, L4) ---------------------------------------------------------------------------------
FAR = ["9999-12-31T23:59:00Z", "0001-01-01T00:00:00+14:00"]


@pytest.mark.parametrize("starts", FAR)
async def test_dates_far_outside_the_window_are_refused_in_offers(
    client, world_db, clean_log, starts
):
    before = snapshot(world_db)
    slot = {"startsAt": starts, "capacity": 1}
    created, _ = await post(client, CREATE_OFFER, {"i": offer(slots=[slot])}, token=EMPLOYER)
    assert "between the years 1900 and 2100" in refused(created)["extensions"]["detail"]
    added, _ = await post(client, ADD_SLOTS, {"id": DEMO_OFFER_IDS[0], "slots": [slot]},
                          token=EMPLOYER)  # fmt: skip
    refused(added)
    expiring, _ = await post(client, CREATE_OFFER, {"i": offer(expiresAt=starts)}, token=EMPLOYER)
    refused(expiring)
    # Written into the document (a literal), the message is the specific Danish one.
    literal = f"""mutation {{ addOfferSlots(id: "{DEMO_OFFER_IDS[0]}",
      slots: [{{startsAt: "{starts}"}}]) {{ id }} }}"""
    result, _ = await post(client, literal, token=EMPLOYER)
    assert refused(result)["message"] == "Et tidspunkt skal ligge mellem år 1900 og 2100."
    assert snapshot(world_db) == before


async def test_each_offer_date_has_its_own_window(client, world_db, clean_log):
    before = snapshot(world_db)
    two_years = [{"startsAt": in_days(2 * 365), "capacity": 1}]
    result, _ = await post(client, CREATE_OFFER, {"i": offer(slots=two_years)}, token=EMPLOYER)
    refused(result, "slots[0].startsAt")
    result, _ = await post(client, ADD_SLOTS, {"id": DEMO_OFFER_IDS[0], "slots": two_years},
                           token=EMPLOYER)  # fmt: skip
    refused(result, "slots[0].startsAt")
    for expires in (in_days(-1), "1900-01-01T00:00:00Z"):
        result, _ = await post(client, CREATE_OFFER, {"i": offer(expiresAt=expires)},
                               token=EMPLOYER)  # fmt: skip
        refused(result, "expiresAt")
    assert snapshot(world_db) == before


async def test_posting_hours_are_kept_as_given_and_dates_bounded(client, world_db, clean_log):
    before = snapshot(world_db)
    for hours in (0, 81, -1):
        result, _ = await post(client, CREATE_POSTING, {"i": posting(weeklyHours=hours)},
                               token=EMPLOYER)  # fmt: skip
        error = refused(result, "weeklyHours")
        assert "1-80 timer om ugen" in error["message"]
    result, _ = await post(client, CREATE_POSTING, {"i": posting(weeklyHours=0)},
                           token=EMPLOYER, lang="en")  # fmt: skip
    assert "must be 1-80 hours a week" in refused(result)["message"]
    result, _ = await post(client, CREATE_POSTING, {"i": posting(deadline="9999-01-01")},
                           token=EMPLOYER)  # fmt: skip
    refused(result)
    far = (date.today() + timedelta(days=400)).isoformat()
    result, _ = await post(client, CREATE_POSTING, {"i": posting(deadline=far)}, token=EMPLOYER)
    refused(result, "deadline")
    assert snapshot(world_db) == before
    # Part time stays part time: 20 hours are stored as 20, not as the default 37.
    result, _ = await post(client, CREATE_POSTING, {"i": posting(weeklyHours=20)},
                           token=EMPLOYER)  # fmt: skip
    created = world_db.postings.find_one({"_id": result["data"]["createJobPosting"]["id"]})
    assert (created["weeklyHours"], created["hours"]) == (20, "PART_TIME")


async def test_earliest_start_is_bounded(client, world_db, clean_log):
    before = snapshot(world_db)
    result, _ = await post(client, PREFERENCES, {"i": {"earliestStart": "9999-01-01"}})
    refused(result)
    far = (date.today() + timedelta(days=3 * 365)).isoformat()
    result, _ = await post(client, PREFERENCES, {"i": {"earliestStart": far}})
    refused(result, "earliestStart")
    assert snapshot(world_db) == before
    soon = (date.today() + timedelta(days=30)).isoformat()
    result, _ = await post(client, PREFERENCES, {"i": {"earliestStart": soon}})
    assert result["data"]["updateMyJobPreferences"]["preferences"]["earliestStart"] == soon


# --- lists (L2) ----------------------------------------------------------------------------------------
LISTS = {
    # 10,000 items: one error, refused before any item is coerced or checked.
    "cv-skills": (CITIZEN, CREATE_CV, {"i": {"skills": ["x"] * 10_000}}, "skills"),
    "bad-enums": (
        EMPLOYER,
        "query($s: [OfferStatus!]) { myOffers(status: $s) { id } }",
        {"s": ["NOPE"] * 10_000},
        "s",
    ),
    "slots": (
        EMPLOYER,
        ADD_SLOTS,
        {"id": DEMO_OFFER_IDS[0], "slots": [{"startsAt": "nope"}] * 10_000},
        "slots",
    ),
    # Over a feature's own cap: one error, the items are not checked one by one.
    "work-history": (
        CITIZEN,
        CREATE_CV,
        {"i": {"workHistory": [{"title": "", "start": "x"}] * 60}},
        "workHistory",
    ),
    "targets": (
        EMPLOYER,
        CREATE_OFFER,
        {"i": offer(targetOccupationIds=[f"x{i}" for i in range(40)])},
        "targetOccupationIds",
    ),
    "push-categories": (
        CITIZEN,
        PRIVACY,
        {"i": {"pushCategories": [{"category": "NEWS", "enabled": False}] * 5}},
        "pushCategories",
    ),
    "notification-categories": (
        EMPLOYER,
        NOTIFICATION_PREFS,
        {"i": {"categories": [{"category": "NEWS", "enabled": False}] * 5}},
        "categories",
    ),
}


@pytest.mark.parametrize("name", list(LISTS))
async def test_an_over_long_list_is_one_error_and_a_small_answer(client, world_db, clean_log, name):
    token, query, variables, field = LISTS[name]
    before = snapshot(world_db)
    result, size = await post(client, query, variables, token=token)
    assert len(result["errors"]) == 1
    refused(result, field)
    assert size < 1_000
    assert snapshot(world_db) == before


# --- paging cursors (M3) -------------------------------------------------------------------------------
def cursor(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode()


CURSORS = {
    # Longer than any string may be: refused before GraphQL (HTTP 400, api/limits.py).
    "nested-brackets": cursor(b"[" * 50_000),
    "huge-number": cursor(b"[" + b"9" * 5000 + b"]"),
    "not-base64": "!!!*** not a cursor",
    "not-json": cursor(b"\xff\xfe{"),
    "object": cursor(b'{"a": 1}'),
    "far-date": cursor(b'["0001-01-01T00:00:00+14:00", "x"]'),
    "year-9999": cursor(b'["9999-12-31T23:59:59+00:00", "x"]'),
    "wrong-types": cursor(b"[1, 2]"),
    "bool-offset": cursor(b"[true]"),
    "negative-offset": cursor(b"[-5]"),
    "nan": cursor(b"[NaN]"),
}
PAGED = [
    "query($a: String) { jobApplications(first: 5, after: $a) { edges { cursor } } }",
    "query($a: String) { notifications(first: 5, after: $a) { edges { cursor } } }",
    "query($a: String) { consentHistory(first: 5, after: $a) { edges { cursor } } }",
    "query($a: String) { recommendedJobs(first: 5, after: $a) { edges { cursor } } }",
]
# A (label, id) key: any two strings are a well-formed cursor of this one.
TAXONOMY = (
    "query($a: String) { iscoGroups { occupations(first: 2, after: $a) { edges { cursor } } } }"
)


@pytest.mark.parametrize("name", list(CURSORS))
async def test_a_forged_cursor_is_bad_user_input_with_a_stable_reason(client, clean_log, name):
    queries = PAGED if name in ("far-date", "year-9999") else [*PAGED, TAXONOMY]
    for query in queries:
        result, _ = await post(client, query, {"a": CURSORS[name]}, statuses=(200, 400))
        assert result.get("errors"), (query, result)
        assert set(error_codes(result)) == {"BAD_USER_INPUT"}, (query, result)
        first = result["errors"][0]
        if name == "nested-brackets":  # too long to be a string of any request
            assert first["extensions"]["reason"] == "STRING_TOO_LONG"
        else:
            assert first["extensions"]["reason"] == "INVALID_CURSOR", (query, result)
            assert first["message"].startswith("Ugyldig cursor (after).")
