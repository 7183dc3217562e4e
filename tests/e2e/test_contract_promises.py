"""Small promises of the contract that the end-to-end run of issue 14 found broken, checked the
way an app meets them: places from postal codes, and dev tokens that expire when asked to."""

from __future__ import annotations

from .actors import PROFILE, company_input, new_cvr, short_id
from .ops import Api
from .server import RunningServer

# Geographic postal codes that answered town: null (issue 14 item 9), with their towns in
# shared/geo/dk_postal_codes.tsv.
TOWNS = {"8210": "Aarhus V", "8220": "Brabrand", "2100": "København Ø", "5230": "Odense M"}
# A P.O.-box code (8100 Aarhus C postboks), and codes that are no Danish code at all.
NOT_PLACES = ("8100", "0000", "9999")


async def test_every_geographic_postal_code_has_a_town(api: Api, e2e_server: RunningServer):
    token = e2e_server.token("citizen", f"e2e-borger-{short_id()}")
    employer = e2e_server.token("employer", f"e2e-arbejdsgiver-{short_id()}", cvr=new_cvr())
    wrong = []
    for code, town in TOWNS.items():
        saved = await api.run("UpdateMyProfile", token, {"input": {**PROFILE, "postalCode": code}})
        got = saved.ok()["updateMyProfile"]["town"]
        company = await api.run(
            "UpdateMyCompany",
            employer,
            {"input": {**company_input("E2E Sted ApS"), "postalCode": code}},
        )
        got_company = company.ok()["updateMyCompany"]["town"]
        if (got, got_company) != (town, town):
            wrong.append(f"{code}: profile {got!r}, company {got_company!r}, want {town!r}")
    assert not wrong, "postal codes without their town (item 9):\n" + "\n".join(wrong)


async def test_postal_codes_that_are_no_place_answer_bad_user_input(
    api: Api, e2e_server: RunningServer
):
    token = e2e_server.token("citizen", f"e2e-borger-{short_id()}")
    for code in NOT_PLACES:
        refused = await api.run(
            "UpdateMyProfile", token, {"input": {**PROFILE, "postalCode": code}}
        )
        assert refused.code == "BAD_USER_INPUT", (code, refused)
        fields = (refused.errors[0].get("extensions") or {}).get("fields") or []
        assert [f["field"] for f in fields] == ["postalCode"], (code, refused.errors)
    assert (await api.run("MyProfile", token)).ok()["myProfile"] is None, "nothing was saved"


async def test_a_token_minted_for_zero_hours_is_expired(api: Api, e2e_server: RunningServer):
    """`jobunivers token --hours 0` gave a 12-hour token (issue 14 item 11)."""
    token = e2e_server.token("citizen", f"e2e-borger-{short_id()}", hours=0)
    refused = await api.run("Viewer", token)
    assert refused.code == "UNAUTHENTICATED", refused
    assert (refused.errors[0].get("extensions") or {}).get("reason") == "TOKEN_EXPIRED"
