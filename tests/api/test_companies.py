"""A company's own profile: validated whole, placed by its postal code."""

from __future__ import annotations

import pytest

from api.auth.actor import Role
from seed.demo import DEMO_COMPANY_CVR, DEMO_OFFER_IDS
from tests.api.meetings.helpers import CITIZEN, OTHER_CVR, OTHER_EMPLOYER, SWIPE
from tests.conftest import gql, token_for


@pytest.fixture
def client(world_client):
    return world_client


async def test_company_profile(client, world_db):
    mutation = """mutation($input: CompanyInput!) { updateMyCompany(input: $input) { cvr name town size } }"""
    data = {"name": "Ny Logistik ApS", "industry": "Transport", "street": "Havnegade 1",
            "postalCode": "9000", "size": "10-49", "website": "https://ny.example.dk"}  # fmt: skip
    result = await gql(client, mutation, token=OTHER_EMPLOYER, variables={"input": data})
    assert result["data"]["updateMyCompany"] == {"cvr": OTHER_CVR, "name": "Ny Logistik ApS",
                                                 "town": "Aalborg", "size": "10-49"}  # fmt: skip
    bad = await gql(client, mutation, token=OTHER_EMPLOYER,
                    variables={"input": data | {"size": "stor", "postalCode": "12"}})  # fmt: skip
    assert {f["field"] for f in bad["errors"][0]["extensions"]["fields"]} == {"size", "postalCode"}


async def test_an_employer_who_signs_up_in_the_app_hears_of_new_requests(client, world_db):
    # Only the seed wrote employer users: a new account for the demo company got no notices.
    newcomer = token_for("ny-medarbejder", Role.EMPLOYER, DEMO_COMPANY_CVR)
    seen = await gql(client, "{ viewer { id } }", token=newcomer)
    assert seen["data"]["viewer"]["id"] == "ny-medarbejder"
    assert world_db.employers.find_one({"_id": "ny-medarbejder"})["cvr"] == DEMO_COMPANY_CVR
    swiped = await gql(client, SWIPE, token=CITIZEN,
                       variables={"offer": DEMO_OFFER_IDS[0], "decision": "YES"})  # fmt: skip
    assert "errors" not in swiped, swiped
    inbox = await gql(client, "{ notifications(first: 10) { edges { node { title } } } }",
                      token=newcomer)  # fmt: skip
    titles = [e["node"]["title"] for e in inbox["data"]["notifications"]["edges"]]
    assert "Ny anmodning om kaffemøde" in titles
    # Known once per process: a second request writes nothing more.
    assert world_db.employers.count_documents({"_id": "ny-medarbejder"}) == 1
