"""Database commands per list screen: each operation of the mobile contract, sent as the app
sends it, costs the same number of commands for a page of 1 item as for a page of 20, so an
N+1 in a field resolver shows up here as a failing number."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from api.app import create_app
from notifications import inbox
from seed.demo import DEMO_CANDIDATE_IDS, DEMO_CITIZEN_ID
from store.client import Store
from tests.conftest import gql, token_for

OPERATIONS = Path(__file__).resolve().parents[2] / "mobile_contract" / "operations"
# Citizens with a profile and no saved jobs, applications or notifications of their own.
ONE_ID, TWENTY_ID = DEMO_CANDIDATE_IDS[2], DEMO_CANDIDATE_IDS[3]


def operation(name: str) -> str:
    return (OPERATIONS / f"{name}.graphql").read_text()


async def commands_for(client, counter, name: str, subject: str, variables: dict, items: int):
    """Commands for one run of the operation, after checking it returned ``items`` edges."""
    counter.reset()
    result = await gql(client, operation(name), token=token_for(subject), variables=variables)
    assert "errors" not in result, result
    connection = next(iter(result["data"].values()))
    assert len(connection["edges"]) == items
    return len(counter.commands)


async def page_costs(client, counter, name: str, *, one: str, twenty: str) -> tuple[int, int]:
    """Commands for the first page of a citizen with 1 item and of one with 20 items."""
    first_page = {"first": 20}
    return (
        await commands_for(client, counter, name, one, first_page, 1),
        await commands_for(client, counter, name, twenty, first_page, 20),
    )


class TestRecommendedJobs:
    """Over the matching world (300 postings), so a page of 20 suggestions is full."""

    @pytest.fixture
    def database_name(self, matching_world):
        return matching_world["name"]

    @pytest.fixture
    def sync_db(self):  # the seeded database is shared by the session
        return None

    @pytest.fixture
    def app(self, settings, matching_world, command_counter):
        return create_app(
            settings, engine=matching_world["engine"], command_listeners=[command_counter]
        )

    async def test_cost_does_not_grow_with_the_page(self, client, command_counter, matching_world):
        # Everything a suggestion shows comes from the engine's posting records; a posting
        # field read through posting_by_id (or a per-edge read in recommended_jobs) would grow.
        # Both requests start cold: the process's ranked lists and profile vectors are kept
        # for a while (a second request would skip the stored vector's read).
        name, me = "RecommendedJobs", DEMO_CITIZEN_ID
        engine = matching_world["engine"]
        engine.forget_citizen(me)
        one = await commands_for(client, command_counter, name, me, {"first": 1}, 1)
        engine.forget_citizen(me)
        twenty = await commands_for(client, command_counter, name, me, {"first": 20}, 20)
        assert one == twenty, f"{name}: {one} commands for 1 suggestion, {twenty} for 20"


class TestCitizenLists:
    """Over the citizen world; each test gives one citizen 1 item and another 20."""

    @pytest.fixture
    def client(self, world_client):
        return world_client

    @pytest.fixture
    def postings(self, world_db) -> list[str]:
        return [p["_id"] for p in world_db.postings.find({}, {"_id": 1}).sort("_id").limit(20)]

    async def test_notifications_cost_does_not_grow_with_the_inbox(
        self, client, command_counter, db_server, database_name
    ):
        # Notification.from_doc maps the page's documents; a field resolver reading the inbox
        # (or anything else) per notification would grow here.
        store = Store(db_server.uri, database_name)
        start = datetime.now(UTC) - timedelta(hours=1)
        try:
            for recipient, n in ((ONE_ID, 1), (TWENTY_ID, 20)):
                for i in range(n):
                    await inbox.notify(
                        store.db, recipient_id=recipient, recipient_role="CITIZEN",
                        category="NEWS", key=f"count-{recipient}-{i}",
                        text=inbox.Text(f"Nyhed {i}", "Tekst", f"News {i}", "Text"),
                        now=start + timedelta(seconds=i),
                    )  # fmt: skip
        finally:
            await store.close()
        name = "Notifications"
        one, twenty = await page_costs(client, command_counter, name, one=ONE_ID, twenty=TWENTY_ID)
        assert one == twenty, f"{name}: {one} commands for 1 notification, {twenty} for 20"

    async def test_saved_jobs_cost_does_not_grow_with_the_saves(
        self, client, postings, command_counter
    ):
        # SavedJob.posting goes through the posting_by_id loader (one $in for the page); a
        # get_posting per saved job would grow here.
        save = operation("SaveJob")
        for subject, ids in ((ONE_ID, postings[:1]), (TWENTY_ID, postings)):
            for pid in ids:
                variables = {"postingId": pid}
                result = await gql(client, save, token=token_for(subject), variables=variables)
                assert "errors" not in result, result
        name = "SavedJobs"
        one, twenty = await page_costs(client, command_counter, name, one=ONE_ID, twenty=TWENTY_ID)
        assert one == twenty, f"{name}: {one} commands for 1 saved job, {twenty} for 20"

    async def test_job_applications_cost_does_not_grow_with_the_joblog(
        self, client, postings, command_counter
    ):
        # JobApplication.posting goes through the posting_by_id loader (one $in for the page);
        # a get_posting per application would grow here.
        add = operation("AddJobApplication")
        today = datetime.now(UTC).date()
        for subject, ids in ((ONE_ID, postings[:1]), (TWENTY_ID, postings)):
            for i, pid in enumerate(ids):
                entry = {"appliedOn": (today - timedelta(days=i)).isoformat(), "form": "EMAIL",
                         "kind": "POSTING", "postingId": pid}  # fmt: skip
                variables = {"input": entry}
                result = await gql(client, add, token=token_for(subject), variables=variables)
                assert "errors" not in result, result
        name = "JobApplications"
        one, twenty = await page_costs(client, command_counter, name, one=ONE_ID, twenty=TWENTY_ID)
        assert one == twenty, f"{name}: {one} commands for 1 application, {twenty} for 20"
