"""A company's own profile: validated whole, placed by its postal code."""

from __future__ import annotations

import pytest

from tests.api.meetings.helpers import OTHER_CVR, OTHER_EMPLOYER
from tests.conftest import gql


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
