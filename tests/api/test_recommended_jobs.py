"""recommendedJobs, normalizeTitle and occupations(search:) over GraphQL, with the shared
engine and its seeded database."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pymongo import MongoClient

from api.app import create_app
from api.auth.actor import Role
from seed.demo import DEMO_CITIZEN_ID, DEMO_COMPANY_CVR, DEMO_EMPLOYER_ID
from store import collections as c
from tests.conftest import error_codes, gql, token_for

QUERY = """query($first: Int!, $after: String, $filter: JobFilter) {
  recommendedJobs(first: $first, after: $after, filter: $filter) {
    profiling
    edges { cursor node { score broadened broadenedReason distanceKm
      posting { id title companyName town hours description occupation { labelDa } }
      explanation { summary reasons matchedCvItems occupationLabel requirementsMet requirementsMissing } } }
    pageInfo { hasNextPage endCursor } } }"""


@pytest.fixture
def database_name(matching_world):
    return matching_world["name"]


@pytest.fixture
def sync_db():  # the seeded database is shared by the session
    return None


@pytest.fixture
def app(settings, matching_world, command_counter):
    return create_app(
        settings, engine=matching_world["engine"], command_listeners=[command_counter]
    )


CITIZEN = token_for(DEMO_CITIZEN_ID)


async def test_demo_citizen_gets_explained_suggestions(client):
    result = await gql(client, QUERY, token=CITIZEN, variables={"first": 5})
    assert "errors" not in result, result
    conn = result["data"]["recommendedJobs"]
    assert conn["profiling"] is True
    top = conn["edges"][0]["node"]
    assert top["broadened"] is False and 0 < top["score"] <= 1
    assert top["explanation"]["summary"].startswith("Foreslået pga. din erfaring som")
    assert top["posting"]["description"] and top["posting"]["occupation"]["labelDa"]
    assert top["distanceKm"] <= 30


async def test_pages_do_not_repeat(client):
    first = (await gql(client, QUERY, token=CITIZEN, variables={"first": 3}))["data"]
    page1 = first["recommendedJobs"]
    assert page1["pageInfo"]["hasNextPage"]
    second = await gql(
        client,
        QUERY,
        token=CITIZEN,
        variables={"first": 3, "after": page1["pageInfo"]["endCursor"]},
    )
    ids1 = [e["node"]["posting"]["id"] for e in page1["edges"]]
    ids2 = [e["node"]["posting"]["id"] for e in second["data"]["recommendedJobs"]["edges"]]
    assert ids2 and not set(ids1) & set(ids2)


async def test_filter_narrows_and_bad_filter_is_refused(client):
    narrow = await gql(
        client,
        QUERY,
        token=CITIZEN,
        variables={"first": 50, "filter": {"radiusKm": 5, "hours": "FULL_TIME"}},
    )
    for edge in narrow["data"]["recommendedJobs"]["edges"]:
        assert edge["node"]["distanceKm"] <= 5 and edge["node"]["posting"]["hours"] == "FULL_TIME"
    bad = await gql(client, QUERY, token=CITIZEN, variables={"first": 5, "filter": {"radiusKm": 0}})
    assert error_codes(bad) == ["BAD_USER_INPUT"]
    too_many = await gql(client, QUERY, token=CITIZEN, variables={"first": 51})
    assert error_codes(too_many) == ["BAD_USER_INPUT"]


async def test_english_explanations(client):
    result = await gql(
        client, QUERY, token=CITIZEN, variables={"first": 1}, headers={"Accept-Language": "en"}
    )
    summary = result["data"]["recommendedJobs"]["edges"][0]["node"]["explanation"]["summary"]
    assert summary.startswith("Suggested because of your experience as")


async def test_only_citizens_get_suggestions(client):
    employer = token_for(DEMO_EMPLOYER_ID, Role.EMPLOYER, DEMO_COMPANY_CVR)
    assert error_codes(await gql(client, QUERY, token=employer, variables={"first": 5})) == [
        "FORBIDDEN"
    ]
    assert error_codes(await gql(client, QUERY, variables={"first": 5})) == ["UNAUTHENTICATED"]
    stranger = token_for("citizen-without-profile")
    assert error_codes(await gql(client, QUERY, token=stranger, variables={"first": 5})) == [
        "NOT_FOUND"
    ]


async def test_normalize_title_and_typeahead(client):
    result = await gql(
        client,
        '{ normalizeTitle(text: "lagermedarbeider", first: 3) { score matchedLabel occupation { labelDa iscoCode } } }',
        token=CITIZEN,
    )
    matches = result["data"]["normalizeTitle"]
    assert len(matches) == 3 and matches[0]["score"] >= matches[1]["score"]
    assert any(m["occupation"]["iscoCode"] == "9333" for m in matches)
    typeahead = await gql(
        client, '{ occupations(search: "truckfører", first: 5) { id labelDa } }', token=CITIZEN
    )
    labels = [o["labelDa"] for o in typeahead["data"]["occupations"]]
    # Up to 5; titles far below the best match are left out (issue 17).
    assert labels[0] == "gaffeltruckfører" and 1 <= len(labels) <= 5
    long = await gql(client, '{ occupations(search: "%s") { id } }' % ("x" * 121), token=CITIZEN)
    assert error_codes(long) == ["BAD_USER_INPUT"]


async def test_readyz_reports_the_search_index(client):
    body = (await client.get("/readyz")).json()
    assert body["checks"] == {"database": True, "search_index": True}


async def test_job_posting_detail(client):
    first = await gql(client, QUERY, token=CITIZEN, variables={"first": 1})
    pid = first["data"]["recommendedJobs"]["edges"][0]["node"]["posting"]["id"]
    query = "query($id: ID!) { jobPosting(id: $id) { id title description contractType occupation { labelDa } } }"
    detail = (await gql(client, query, token=CITIZEN, variables={"id": pid}))["data"]["jobPosting"]
    assert detail["id"] == pid and "Vi tilbyder" in detail["description"]
    missing = await gql(client, query, token=CITIZEN, variables={"id": "nope"})
    assert missing["data"]["jobPosting"] is None


MARK = """mutation($id: ID!, $reason: NotInterestedReason!) {
  markJobNotInterested(postingId: $id, reason: $reason) { postingId reason } }"""
UNDO = "mutation($id: ID!) { undoJobNotInterested(postingId: $id) }"


async def _ids(client, token) -> list[str]:
    result = await gql(client, QUERY, token=token, variables={"first": 50})
    return [e["node"]["posting"]["id"] for e in result["data"]["recommendedJobs"]["edges"]]


async def test_not_interested_hides_the_job_and_undo_brings_it_back(client):
    before = await _ids(client, CITIZEN)
    top = before[0]
    marked = await gql(client, MARK, token=CITIZEN, variables={"id": top, "reason": "TOO_FAR"})
    assert marked["data"]["markJobNotInterested"] == {"postingId": top, "reason": "TOO_FAR"}
    assert top not in await _ids(client, CITIZEN)
    assert (await gql(client, UNDO, token=CITIZEN, variables={"id": top}))["data"][
        "undoJobNotInterested"
    ]
    assert top in await _ids(client, CITIZEN)
    again = await gql(client, UNDO, token=CITIZEN, variables={"id": top})
    assert error_codes(again) == ["NOT_FOUND"]


async def test_not_my_field_lowers_similar_jobs(client):
    first = await gql(client, QUERY, token=CITIZEN, variables={"first": 50})
    edges = first["data"]["recommendedJobs"]["edges"]
    top_id = edges[0]["node"]["posting"]["id"]
    detail = await gql(
        client,
        "query($id: ID!) { jobPosting(id: $id) { occupation { iscoCode } } }",
        token=CITIZEN,
        variables={"id": top_id},
    )
    unit = detail["data"]["jobPosting"]["occupation"]["iscoCode"]
    try:
        await gql(client, MARK, token=CITIZEN, variables={"id": top_id, "reason": "NOT_MY_FIELD"})
        after = await gql(client, QUERY + "", token=CITIZEN, variables={"first": 50})
        scores_before = {e["node"]["posting"]["id"]: e["node"]["score"] for e in edges}
        lowered = [
            e["node"]
            for e in after["data"]["recommendedJobs"]["edges"]
            if e["node"]["posting"]["id"] in scores_before and e["node"]["posting"]["id"] != top_id
        ]
        same_unit = []
        for node in lowered:
            pid = node["posting"]["id"]
            d = await gql(
                client,
                "query($id: ID!) { jobPosting(id: $id) { occupation { iscoCode } } }",
                token=CITIZEN,
                variables={"id": pid},
            )
            if d["data"]["jobPosting"]["occupation"]["iscoCode"] == unit:
                same_unit.append((node["score"], scores_before[pid]))
        assert same_unit, "expected other suggestions in the same ISCO unit group"
        assert all(after_score < before_score for after_score, before_score in same_unit)
    finally:
        await gql(client, UNDO, token=CITIZEN, variables={"id": top_id})


async def test_not_interested_rules(client):
    employer = token_for(DEMO_EMPLOYER_ID, Role.EMPLOYER, DEMO_COMPANY_CVR)
    forbidden = await gql(client, MARK, token=employer, variables={"id": "x", "reason": "OTHER"})
    assert error_codes(forbidden) == ["FORBIDDEN"]
    missing = await gql(client, MARK, token=CITIZEN, variables={"id": "no-such", "reason": "OTHER"})
    assert error_codes(missing) == ["NOT_FOUND"]


async def test_a_cached_list_follows_what_another_process_writes(client, matching_world):
    """A repeated request reuses this process's ranked list; a consent withdrawn or an answer
    given through another API process (written to the database only) takes effect at once."""
    engine = matching_world["engine"]
    variables = {"first": 5}
    first = await gql(client, QUERY, token=CITIZEN, variables=variables)
    hits = engine.suggestions.hits
    again = await gql(client, QUERY, token=CITIZEN, variables=variables)
    assert again == first and engine.suggestions.hits == hits + 1
    top = first["data"]["recommendedJobs"]["edges"][0]["node"]["posting"]["id"]
    with MongoClient(matching_world["uri"]) as mc:
        db = mc[matching_world["name"]]
        db[c.CITIZENS].update_one({"_id": DEMO_CITIZEN_ID}, {"$set": {"consents.profiling": False}})
        try:
            off = await gql(client, QUERY, token=CITIZEN, variables=variables)
            assert off["data"]["recommendedJobs"]["profiling"] is False
            assert all(not e["node"]["explanation"]["matchedCvItems"]
                       for e in off["data"]["recommendedJobs"]["edges"])  # fmt: skip
        finally:
            db[c.CITIZENS].update_one(
                {"_id": DEMO_CITIZEN_ID}, {"$set": {"consents.profiling": True}}
            )
        answer = {"_id": f"{DEMO_CITIZEN_ID}:{top}", "citizenId": DEMO_CITIZEN_ID,
                  "postingId": top, "reason": "OTHER", "createdAt": datetime.now(UTC)}  # fmt: skip
        db[c.JOB_FEEDBACK].insert_one(answer)
        try:
            assert top not in await _ids(client, CITIZEN)
        finally:
            db[c.JOB_FEEDBACK].delete_one({"_id": answer["_id"]})
    back = await gql(client, QUERY, token=CITIZEN, variables=variables)
    assert back == first
