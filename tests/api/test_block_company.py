"""``blockCompany`` stores CVR numbers only (8 ASCII digits, mod-11), at most 200 of them, and
the profile counts them (issue 16, M2). Before: 16 values of 1 MB each made one citizen
document 16 MB, and Arabic-Indic digits passed ``str.isdigit``."""

from __future__ import annotations

import json
import logging

import pytest

from api.meetings.deck import MAX_BLOCKED_COMPANIES
from core.cvr import complete_cvr, is_valid_cvr
from seed.demo import DEMO_CITIZEN_ID
from tests.api.meetings.helpers import CITIZEN, OTHER_CVR
from tests.conftest import error_codes, gql

BLOCK = "mutation($cvr: String!) { blockCompany(cvr: $cvr) }"
UNBLOCK = "mutation($cvr: String!) { unblockCompany(cvr: $cvr) }"
COUNT = "{ myProfile { blockedCompanyCount } }"
ARABIC_INDIC = "".join(chr(0x0660 + int(d)) for d in OTHER_CVR)  # ٢٩٤٠٣٤٧٣
SUPERSCRIPT = OTHER_CVR.translate(str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹"))


@pytest.fixture
def limits() -> str:
    return "shipped"  # a test parametrised with limits="lifted" gets the settings below


@pytest.fixture
def settings(settings, limits):
    """Lifted: the HTTP body and string caps (api/limits.py) are raised, so 1 MB values reach
    the mutation itself."""
    if limits == "lifted":
        return settings.model_copy(
            update={"max_body_bytes": 4_000_000, "max_string_chars": 2_000_000}
        )
    return settings


@pytest.fixture
def client(world_client):
    return world_client


def stored(world_db) -> list[str]:
    return world_db.citizens.find_one({"_id": DEMO_CITIZEN_ID}).get("blockedCompanies", [])


def no_tracebacks(caplog) -> None:
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info], [
        r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR
    ]


async def post(client, query: str, variables: dict, headers: dict | None = None):
    return await client.post(
        "/graphql",
        content=json.dumps({"query": query, "variables": variables}).encode(),
        headers={"Authorization": f"Bearer {CITIZEN}", "Content-Type": "application/json"}
        | (headers or {}),
    )


def test_cvr_digits_are_ascii_and_mod_11():
    assert is_valid_cvr(OTHER_CVR)
    assert ARABIC_INDIC.isdigit() and SUPERSCRIPT.isdigit()  # what str.isdigit let through
    for bad in (ARABIC_INDIC, SUPERSCRIPT, OTHER_CVR[:7], OTHER_CVR[:7] + "4", "0" + "1" * 7,
                "２９４０３４７３", " " + OTHER_CVR, None, 29403473):  # fmt: skip
        assert not is_valid_cvr(bad), bad


@pytest.mark.parametrize("limits", ["lifted"])
async def test_sixteen_values_of_1_mb_are_refused_and_nothing_is_stored(client, world_db, caplog):
    caplog.set_level(logging.INFO)
    before = stored(world_db)
    for i in range(16):
        response = await post(client, BLOCK, {"cvr": str(i) * 1_000_000})
        assert response.status_code == 200
        result = response.json()
        assert error_codes(result) == ["BAD_USER_INPUT"]
        assert result["errors"][0]["extensions"]["fields"][0]["field"] == "cvr"
        assert len(response.content) < 2_000  # the value is not echoed
    assert stored(world_db) == before
    citizen_bytes = len(json.dumps(world_db.citizens.find_one({"_id": DEMO_CITIZEN_ID}),
                                   default=str))  # fmt: skip
    assert citizen_bytes < 20_000
    no_tracebacks(caplog)


async def test_with_the_shipped_limits_a_1_mb_value_never_gets_in(client, world_db, caplog):
    caplog.set_level(logging.INFO)
    before = stored(world_db)
    huge = await post(client, BLOCK, {"cvr": "1" * 1_000_000})
    assert huge.status_code in (400, 413)  # refused before GraphQL (api/limits.py)
    assert huge.json()["errors"][0]["extensions"]["code"]
    long = await post(client, BLOCK, {"cvr": "1" * 10_000})  # under the string cap: ours
    assert error_codes(long.json()) == ["BAD_USER_INPUT"]
    assert stored(world_db) == before
    no_tracebacks(caplog)


@pytest.mark.parametrize(
    "cvr",
    [ARABIC_INDIC, SUPERSCRIPT, "2940347", "29403474", "2940347x", "", "\u202e29403473"],
    ids=[
        "arabic-indic",
        "superscript",
        "seven-digits",
        "bad-check-digit",
        "letter",
        "empty",
        "rlo",
    ],
)
async def test_anything_but_a_valid_cvr_is_refused_with_the_field(client, world_db, caplog, cvr):
    caplog.set_level(logging.INFO)
    before = stored(world_db)
    for query in (BLOCK, UNBLOCK):
        result = (await post(client, query, {"cvr": cvr})).json()
        assert error_codes(result) == ["BAD_USER_INPUT"], result
        error = result["errors"][0]
        assert error["message"].startswith("cvr: skal være et CVR-nummer")
        assert error["extensions"]["fields"][0]["field"] == "cvr"
    assert stored(world_db) == before
    no_tracebacks(caplog)


async def test_english_message(client):
    result = (await post(client, BLOCK, {"cvr": ARABIC_INDIC}, {"Accept-Language": "en"})).json()
    assert result["errors"][0]["message"] == (
        "cvr: must be a CVR number: 8 digits (0-9) with a valid check digit."
    )


async def test_a_valid_cvr_is_blocked_once_counted_and_unblocked(client, world_db):
    before = stored(world_db)
    count = (await gql(client, COUNT, token=CITIZEN))["data"]["myProfile"]["blockedCompanyCount"]
    assert count == len(before)
    result = await gql(client, BLOCK, token=CITIZEN, variables={"cvr": f" {OTHER_CVR} "})
    assert result["data"]["blockCompany"] == [*before, OTHER_CVR]  # trimmed
    again = await gql(client, BLOCK, token=CITIZEN, variables={"cvr": OTHER_CVR})
    assert again["data"]["blockCompany"] == [*before, OTHER_CVR]  # once
    profile = await gql(client, COUNT, token=CITIZEN)
    assert profile["data"]["myProfile"]["blockedCompanyCount"] == len(before) + 1
    undone = await gql(client, UNBLOCK, token=CITIZEN, variables={"cvr": OTHER_CVR})
    assert undone["data"]["unblockCompany"] == before
    assert stored(world_db) == before


def valid_cvrs(n: int) -> list[str]:
    out = []
    for seven in range(2_000_000, 3_000_000):
        cvr = complete_cvr(str(seven))
        if cvr:
            out.append(cvr)
            if len(out) == n:
                return out
    raise AssertionError("not enough CVRs")


async def test_at_most_200_companies_and_the_201st_is_refused(client, world_db, caplog):
    caplog.set_level(logging.INFO)
    full = valid_cvrs(MAX_BLOCKED_COMPANIES + 1)
    world_db.citizens.update_one(
        {"_id": DEMO_CITIZEN_ID}, {"$set": {"blockedCompanies": full[:MAX_BLOCKED_COMPANIES]}}
    )
    result = await gql(client, BLOCK, token=CITIZEN, variables={"cvr": full[-1]})
    assert error_codes(result) == ["BAD_USER_INPUT"]
    assert result["errors"][0]["message"].startswith("Du kan højst blokere 200 virksomheder")
    assert result["errors"][0]["extensions"]["limit"] == MAX_BLOCKED_COMPANIES
    assert stored(world_db) == full[:MAX_BLOCKED_COMPANIES]
    # One already blocked is still fine (nothing to add), and after an unblock there is room.
    same = await gql(client, BLOCK, token=CITIZEN, variables={"cvr": full[0]})
    assert len(same["data"]["blockCompany"]) == MAX_BLOCKED_COMPANIES
    await gql(client, UNBLOCK, token=CITIZEN, variables={"cvr": full[0]})
    added = await gql(client, BLOCK, token=CITIZEN, variables={"cvr": full[-1]})
    assert added["data"]["blockCompany"][-1] == full[-1]
    no_tracebacks(caplog)


async def test_values_stored_before_the_check_are_dropped_on_the_next_change(client, world_db):
    junk = ["x" * 1000, ARABIC_INDIC, "12345678"]
    world_db.citizens.update_one({"_id": DEMO_CITIZEN_ID}, {"$set": {"blockedCompanies": junk}})
    profile = await gql(client, COUNT, token=CITIZEN)
    assert profile["data"]["myProfile"]["blockedCompanyCount"] == 0
    result = await gql(client, BLOCK, token=CITIZEN, variables={"cvr": OTHER_CVR})
    assert result["data"]["blockCompany"] == [OTHER_CVR]
    assert stored(world_db) == [OTHER_CVR]
