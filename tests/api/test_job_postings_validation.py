"""Job postings refuse what they cannot place (issue 14, item 8 and 9): a title the normaliser
does not recognise asks the employer for the occupation instead of filing the posting under a
guess ("Xyzzy qwerty" was filed as an estate-agent assistant); an edited title keeps the
occupation the posting has; the job detail operation selects ``status``; a posting's postal
code must be a geographic one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from matching.titles import CONFIDENT_SCORE
from seed.demo import FORKLIFT_OPERATOR
from tests.api.meetings.helpers import EMPLOYER
from tests.conftest import error_codes, gql

OPERATIONS = Path(__file__).resolve().parents[2] / "mobile_contract" / "operations"
CREATE = """mutation($input: JobPostingInput!) { createJobPosting(input: $input) {
  id title town status occupation { id iscoCode } } }"""
UPDATE = """mutation($id: ID!, $input: JobPostingInput!) {
  updateJobPosting(id: $id, input: $input) { id title occupation { id iscoCode } } }"""
CLOSE = "mutation($id: ID!) { closeJobPosting(id: $id) { status } }"


@pytest.fixture
def client(world_client):
    return world_client


def posting_input(**changes) -> dict:
    deadline = (datetime.now(UTC) + timedelta(days=20)).date().isoformat()
    return {
        "title": "Lagermedarbejder til nathold",
        "description": "Plukning og pakning om natten.",
        "postalCode": "8200",
        "deadline": deadline,
    } | changes


def problem_fields(result: dict) -> list[str]:
    assert error_codes(result) == ["BAD_USER_INPUT"], result
    return [f["field"] for f in result["errors"][0]["extensions"]["fields"]]


async def create(client, **changes) -> dict:
    result = await gql(
        client, CREATE, token=EMPLOYER, variables={"input": posting_input(**changes)}
    )
    assert "errors" not in result, result
    return result["data"]["createJobPosting"]


async def test_an_unrecognised_title_asks_for_the_occupation_and_files_nothing(client, world_db):
    before = world_db.postings.count_documents({})
    for title in ("Xyzzy qwerty", "Qwxz vbnm", "asdf jkl"):
        result = await gql(
            client, CREATE, token=EMPLOYER, variables={"input": posting_input(title=title)}
        )
        assert problem_fields(result) == ["occupationId"], title
        assert "occupation" in result["errors"][0]["extensions"]["fields"][0]["messageEn"]
    assert world_db.postings.count_documents({}) == before
    # The same title with the occupation picked from the typeahead is published.
    posting = await create(client, title="Xyzzy qwerty", occupationId=FORKLIFT_OPERATOR)
    assert posting["occupation"]["id"] == FORKLIFT_OPERATOR and posting["status"] == "OPEN"


async def test_real_titles_stay_recognised(client, app):
    """The threshold refuses nonsense, not the titles employers write (the app's engine holds
    the warehouse, transport, cleaning, kitchen and sales slice of the taxonomy)."""
    engine = app.state.engine
    for nonsense in ("Xyzzy qwerty", "Qwxz vbnm", "qwertyuiop", "Lorem ipsum dolor", "asdf jkl"):
        assert engine.normalize_title(nonsense, 1)[0].score < CONFIDENT_SCORE, nonsense
    for title in (
        "Lagermedarbejder til nathold",
        "Truckfører",
        "Buschauffør",
        "Kok til kantine",
        "Rengøringsassistent",
        "Butiksassistent",
        "lagermedarbeider",  # a typo
        "Warehouse worker",
        "Bus driver",
    ):
        assert engine.normalize_title(title, 1)[0].score >= CONFIDENT_SCORE, title


async def test_editing_the_title_keeps_the_occupation(client, world_db, app):
    posting = await create(client, title="Lagermedarbejder", occupationId=FORKLIFT_OPERATOR)
    pid = posting["id"]
    # A new title alone (no occupation picked) keeps the occupation the employer chose, even
    # when the title would normalise to another one, or to none.
    for title in ("Rengøringsassistent til kontor", "Xyzzy qwerty"):
        result = await gql(
            client,
            UPDATE,
            token=EMPLOYER,
            variables={"id": pid, "input": posting_input(title=title)},
        )
        assert "errors" not in result, result
        edited = result["data"]["updateJobPosting"]
        assert (edited["title"], edited["occupation"]["id"]) == (title, FORKLIFT_OPERATOR)
        assert world_db.postings.find_one({"_id": pid})["occupationId"] == FORKLIFT_OPERATOR
        assert app.state.engine.records[pid].occupation_id == FORKLIFT_OPERATOR
    # Picking another occupation changes it.
    cleaner = world_db.occupations.find_one({"iscoCode": {"$regex": "^9112"}})
    result = await gql(
        client,
        UPDATE,
        token=EMPLOYER,
        variables={"id": pid, "input": posting_input(occupationId=cleaner["_id"])},
    )
    assert result["data"]["updateJobPosting"]["occupation"]["id"] == cleaner["_id"]
    assert app.state.engine.records[pid].occupation_id == cleaner["_id"]


async def test_job_posting_detail_selects_the_status(client):
    detail = (OPERATIONS / "JobPostingDetail.graphql").read_text(encoding="utf-8")
    pid = (await create(client))["id"]
    result = await gql(client, detail, token=EMPLOYER, variables={"id": pid})
    assert result["data"]["jobPosting"]["status"] == "OPEN"
    await gql(client, CLOSE, token=EMPLOYER, variables={"id": pid})
    result = await gql(client, detail, token=EMPLOYER, variables={"id": pid})
    assert result["data"]["jobPosting"]["status"] == "CLOSED"


async def test_a_posting_is_placed_by_any_geographic_postal_code(client, world_db):
    for code, town in (("8220", "Brabrand"), ("2100", "København Ø"), ("5230", "Odense M")):
        posting = await create(client, postalCode=code)
        assert posting["town"] == town
    before = world_db.postings.count_documents({})
    for code in ("8100", "0000", "3900", "82"):  # P.O. boxes, unknown, Nuuk, malformed
        result = await gql(
            client, CREATE, token=EMPLOYER, variables={"input": posting_input(postalCode=code)}
        )
        assert problem_fields(result) == ["postalCode"], code
    assert world_db.postings.count_documents({}) == before
