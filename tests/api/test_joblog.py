"""The contract's joblog, saved-jobs and CV operations as the app sends them
(``mobile_contract/operations``): updating an application is partial (a field left out stays,
null clears what may be cleared), a saved job whose posting is gone can still be unsaved by its
``postingId``, and one CV is read by id."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from jobunivers.contract import OPERATIONS_DIR
from seed.demo import DEMO_CANDIDATE_IDS, DEMO_CITIZEN_ID
from tests.conftest import error_codes, gql, token_for

CITIZEN_ID = DEMO_CANDIDATE_IDS[2]  # a citizen with a profile and an empty joblog
CITIZEN = token_for(CITIZEN_ID)
DEMO = token_for(DEMO_CITIZEN_ID)


def operation(name: str) -> str:
    return (OPERATIONS_DIR / f"{name}.graphql").read_text(encoding="utf-8")


@pytest.fixture
def client(world_client):
    return world_client


def postings(db, n: int) -> list[dict]:
    return list(db.postings.find({"_id": {"$regex": "^demo-opslag"}}).sort("_id", 1).limit(n))


async def add(client, entry: dict) -> dict:
    result = await gql(client, operation("AddJobApplication"), token=CITIZEN,
                       variables={"input": entry})  # fmt: skip
    assert "errors" not in result, result
    return result["data"]["addJobApplication"]


async def update(client, entry_id: str, changes: dict) -> dict:
    return await gql(client, operation("UpdateJobApplication"), token=CITIZEN,
                     variables={"id": entry_id, "input": changes})  # fmt: skip


async def test_updating_an_application_changes_only_the_fields_given(client, world_db):
    applied = (datetime.now(UTC).date() - timedelta(days=3)).isoformat()
    entry = await add(client, {"appliedOn": applied, "form": "EMAIL", "kind": "UNSOLICITED",
                               "companyName": "Firma 1", "jobTitle": "Lagermedarbejder",
                               "note": "Ringede først"})  # fmt: skip
    # The app changes the status after an interview, sending only the status.
    result = await update(client, entry["id"], {"status": "INTERVIEW"})
    assert "errors" not in result, result
    assert result["data"]["updateJobApplication"] == entry | {"status": "INTERVIEW"}
    # Null clears the note; the rest stays.
    result = await update(client, entry["id"], {"note": None})
    assert result["data"]["updateJobApplication"] == entry | {"status": "INTERVIEW", "note": None}
    # Null for a field that cannot be empty is refused, and nothing changes.
    before = world_db.joblog.find_one({"_id": entry["id"]})
    for field in ("appliedOn", "form", "kind", "status"):
        refused = await update(client, entry["id"], {field: None, "jobTitle": "Chauffør"})
        assert error_codes(refused) == ["BAD_USER_INPUT"], (field, refused)
        assert refused["errors"][0]["extensions"]["fields"][0]["field"] == field
    unsolicited_without_company = await update(client, entry["id"], {"companyName": None})
    assert error_codes(unsolicited_without_company) == ["BAD_USER_INPUT"]
    assert world_db.joblog.find_one({"_id": entry["id"]}) == before
    # Adding still needs the date and the form.
    missing = await gql(client, operation("AddJobApplication"), token=CITIZEN,
                        variables={"input": {"companyName": "Firma", "jobTitle": "Chauffør"}})  # fmt: skip
    assert error_codes(missing) == ["BAD_USER_INPUT"]
    assert {f["field"] for f in missing["errors"][0]["extensions"]["fields"]} == {
        "appliedOn", "form",
    }  # fmt: skip


async def test_an_application_to_a_posting_follows_the_posting(client, world_db):
    first, second = postings(world_db, 2)
    today = datetime.now(UTC).date().isoformat()
    entry = await add(client, {"appliedOn": today, "form": "WRITTEN", "postingId": first["_id"],
                               "companyName": "Mit navn for firmaet"})  # fmt: skip
    assert (entry["companyName"], entry["jobTitle"]) == ("Mit navn for firmaet", first["title"])
    # Null company name: it follows the posting again.
    result = await update(client, entry["id"], {"companyName": None})
    assert result["data"]["updateJobApplication"]["companyName"] == first["companyName"]
    # Another posting brings its company and title.
    result = await update(client, entry["id"], {"postingId": second["_id"]})
    changed = result["data"]["updateJobApplication"]
    assert (changed["companyName"], changed["jobTitle"]) == (
        second["companyName"], second["title"],
    )  # fmt: skip
    # The posting is removed: the entry's other fields can still be changed.
    world_db.postings.delete_one({"_id": second["_id"]})
    result = await update(client, entry["id"], {"status": "REJECTED"})
    assert "errors" not in result, result
    stored = world_db.joblog.find_one({"_id": entry["id"]})
    assert (stored["status"], stored["postingId"]) == ("REJECTED", second["_id"])
    # Null posting: the link goes, company and title stay.
    result = await update(client, entry["id"], {"postingId": None})
    assert result["data"]["updateJobApplication"]["companyName"] == second["companyName"]
    assert world_db.joblog.find_one({"_id": entry["id"]})["postingId"] is None


async def test_a_saved_job_whose_posting_is_gone_can_be_unsaved(client, world_db):
    [posting] = postings(world_db, 1)
    saved = await gql(client, operation("SaveJob"), token=DEMO,
                      variables={"postingId": posting["_id"]})  # fmt: skip
    assert "errors" not in saved, saved
    world_db.postings.delete_one({"_id": posting["_id"]})
    listed = await gql(client, operation("SavedJobs"), token=DEMO)
    assert "errors" not in listed, listed
    [node] = [e["node"] for e in listed["data"]["savedJobs"]["edges"]]
    assert node["posting"] is None and node["postingId"] == posting["_id"]
    unsaved = await gql(client, operation("UnsaveJob"), token=DEMO,
                        variables={"postingId": node["postingId"]})  # fmt: skip
    assert unsaved["data"]["unsaveJob"] is True
    listed = await gql(client, operation("SavedJobs"), token=DEMO)
    assert listed["data"]["savedJobs"]["edges"] == []


async def test_one_cv_by_id(client, world_db):
    mine = await gql(client, operation("MyCvs"), token=DEMO)
    assert "errors" not in mine, mine
    primary = mine["data"]["myCvs"][0]
    one = await gql(client, operation("Cv"), token=DEMO, variables={"id": primary["id"]})
    assert "errors" not in one, one
    assert one["data"]["cv"] == primary
    theirs = world_db.cvs.find_one({"citizenId": CITIZEN_ID})
    other = await gql(client, operation("Cv"), token=DEMO, variables={"id": theirs["_id"]})
    assert error_codes(other) == ["NOT_FOUND"]
