"""Job postings as a company manages them: normalised to an occupation, indexed for the
citizens' suggestions, and leaving them when closed or expired."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.api.meetings.helpers import CITIZEN, EMPLOYER, by_id, run_housekeeping
from tests.conftest import error_codes, gql


@pytest.fixture
def client(world_client):
    return world_client


POSTING_INPUT = {
    "title": "Lagermedarbejder til nathold",
    "description": "Vi søger en lagermedarbejder til plukning og pakning om natten.",
    "postalCode": "8200",
    "weeklyHours": 37,
    "requirements": [{"skill": "truckcertifikat", "required": False}],
}

CREATE_POSTING = """mutation($input: JobPostingInput!) { createJobPosting(input: $input) {
  id title status occupation { id iscoCode } } }"""

JOBS = "{ recommendedJobs(first: 50) { edges { node { posting { id } } } } }"


async def test_postings_are_normalised_indexed_and_leave_on_close_or_expiry(
    client, world_db, app, settings
):
    deadline = (datetime.now(UTC) + timedelta(days=20)).date().isoformat()
    created = await gql(client, CREATE_POSTING, token=EMPLOYER,
                        variables={"input": POSTING_INPUT | {"deadline": deadline}})  # fmt: skip
    posting = created["data"]["createJobPosting"]
    assert posting["status"] == "OPEN" and posting["occupation"]["iscoCode"][:2] in ("93", "43")
    suggested = await gql(client, JOBS, token=CITIZEN)
    ids = [e["node"]["posting"]["id"] for e in suggested["data"]["recommendedJobs"]["edges"]]
    assert posting["id"] in ids
    closed = await gql(
        client,
        by_id('mutation { closeJobPosting(id: "$ID") { status } }', posting["id"]),
        token=EMPLOYER,
    )
    assert closed["data"]["closeJobPosting"]["status"] == "CLOSED"
    suggested = await gql(client, JOBS, token=CITIZEN)
    assert posting["id"] not in [
        e["node"]["posting"]["id"] for e in suggested["data"]["recommendedJobs"]["edges"]
    ]
    again = await gql(
        client,
        by_id('mutation { closeJobPosting(id: "$ID") { status } }', posting["id"]),
        token=EMPLOYER,
    )
    assert error_codes(again) == ["CONFLICT"]
    # A second posting expires through housekeeping.
    second = await gql(client, CREATE_POSTING, token=EMPLOYER,
                       variables={"input": POSTING_INPUT | {"deadline": deadline}})  # fmt: skip
    pid = second["data"]["createJobPosting"]["id"]
    world_db.postings.update_one(
        {"_id": pid}, {"$set": {"deadline": datetime.now(UTC) - timedelta(minutes=1)}}
    )
    figures = await run_housekeeping(world_db, app, settings)
    assert figures["postings_expired"] >= 1  # the seed has some past their deadline too
    assert world_db.postings.find_one({"_id": pid})["status"] == "EXPIRED"
    assert pid not in app.state.engine.records
    unknown = POSTING_INPUT | {"title": "Qwxz vbnm", "deadline": deadline}
    result = await gql(client, CREATE_POSTING, token=EMPLOYER, variables={"input": unknown})
    assert error_codes(result) == ["BAD_USER_INPUT"]
    assert result["errors"][0]["extensions"]["fields"][0]["field"] == "occupationId"
