"""Authentication, roles and the viewer query against the real embedded database."""

from __future__ import annotations

import jwt
import pytest

from api.auth.actor import Role
from api.auth.claims import actor_from_claims
from core.errors import Unauthenticated
from seed.demo import (
    DEMO_CITIZEN_ID,
    DEMO_COMPANY_CVR,
    DEMO_EMPLOYER_ID,
    seed_demo_accounts,
)
from tests.conftest import error_codes, gql, token_for

VIEWER = "{ viewer { id role displayName company { cvr name } } }"
# Valid claims for the demo citizen; only the signature differs between the forgery tests.
WELL_FORMED_CLAIMS = {
    "sub": DEMO_CITIZEN_ID,
    "role": "citizen",
    "iss": "jobunivers-local",
    "aud": "jobunivers",
    "iat": 1,
    "exp": 4_000_000_000,
}


@pytest.fixture
async def seeded(client, app):
    await seed_demo_accounts(app.state.store.db)


async def test_no_token_is_unauthenticated_in_danish(client):
    result = await gql(client, VIEWER)
    assert result["data"] is None
    assert error_codes(result) == ["UNAUTHENTICATED"]
    assert result["errors"][0]["message"] == "Du skal være logget ind."


async def test_english_locale_gets_english_message(client):
    result = await gql(client, VIEWER, headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert result["errors"][0]["message"] == "You must be signed in."


async def test_garbage_token_is_rejected(client):
    result = await gql(client, VIEWER, token="not-a-jwt")
    assert error_codes(result) == ["UNAUTHENTICATED"]
    assert result["errors"][0]["extensions"]["reason"] == "TOKEN_INVALID"


async def test_expired_token_is_rejected(client):
    result = await gql(client, VIEWER, token=token_for("someone", ttl_s=-10))
    assert error_codes(result) == ["UNAUTHENTICATED"]
    assert result["errors"][0]["extensions"]["reason"] == "TOKEN_EXPIRED"
    assert "udløbet" in result["errors"][0]["message"]


async def test_token_signed_with_another_secret_is_rejected(client):
    forged = jwt.encode(
        WELL_FORMED_CLAIMS,
        "some-other-secret-of-sufficient-length-000000",
        algorithm="HS256",
    )
    result = await gql(client, VIEWER, token=forged)
    assert error_codes(result) == ["UNAUTHENTICATED"]


async def test_unsigned_token_is_rejected(client):
    unsigned = jwt.encode(
        WELL_FORMED_CLAIMS,
        None,
        algorithm="none",
    )
    result = await gql(client, VIEWER, token=unsigned)
    assert error_codes(result) == ["UNAUTHENTICATED"]


async def test_citizen_viewer_reads_the_database(client, seeded):
    result = await gql(client, VIEWER, token=token_for(DEMO_CITIZEN_ID))
    assert result.get("errors") is None
    assert result["data"]["viewer"] == {
        "id": DEMO_CITIZEN_ID,
        "role": "CITIZEN",
        "displayName": "Jonas Nielsen",
        "company": None,
    }


async def test_employer_viewer_has_company(client, seeded, command_counter):
    command_counter.reset()
    token = token_for(DEMO_EMPLOYER_ID, Role.EMPLOYER, DEMO_COMPANY_CVR)
    result = await gql(client, VIEWER, token=token)
    assert result["data"]["viewer"]["role"] == "EMPLOYER"
    assert result["data"]["viewer"]["company"] == {
        "cvr": DEMO_COMPANY_CVR,
        "name": "Østjysk Lager & Logistik ApS",
    }
    # One query for the employer's name and one for the company: DataLoaders, no extras.
    assert command_counter.count("find") == 2


async def test_unregistered_citizen_has_no_display_name(client):
    result = await gql(client, VIEWER, token=token_for("new-user-without-profile"))
    assert result["data"]["viewer"]["displayName"] is None


def test_role_claims_mapping():
    assert actor_from_claims("u1", {}).role is Role.CITIZEN
    employer = actor_from_claims("u2", {"role": "employer", "cvr": DEMO_COMPANY_CVR})
    assert employer.role is Role.EMPLOYER and employer.cvr == DEMO_COMPANY_CVR
    # A citizen cannot smuggle in a company.
    assert actor_from_claims("u3", {"role": "citizen", "cvr": DEMO_COMPANY_CVR}).cvr is None
    with pytest.raises(Unauthenticated):
        actor_from_claims("u4", {"role": "employer", "cvr": "12345678"})  # fails mod-11
    with pytest.raises(Unauthenticated):
        actor_from_claims("u5", {"role": "employer"})
    with pytest.raises(Unauthenticated):
        actor_from_claims("u6", {"role": "admin"})


async def test_employer_token_with_invalid_cvr_is_rejected(client):
    result = await gql(client, VIEWER, token=token_for("e1", Role.EMPLOYER, "12345678"))
    assert error_codes(result) == ["UNAUTHENTICATED"]
