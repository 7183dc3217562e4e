"""The citizen's profile, CV variants, job wishes and privacy settings over GraphQL."""

from __future__ import annotations

import pytest

from seed.demo import DEMO_CITIZEN_ID, FORKLIFT_OPERATOR, WAREHOUSE_WORKER
from tests.conftest import error_codes, gql, token_for

DEMO = token_for(DEMO_CITIZEN_ID)
NEW_ID = "ny-borger-1"
NEW = token_for(NEW_ID)


@pytest.fixture
def client(world_client):
    return world_client


PROFILE_FIELDS = """id firstName lastName email phone postalCode town region locationApproximate
  locale preferences { radiusKm hours contractTypes earliestStart occupations { id labelDa } }
  privacy { profiling employerVisibility pushCategories { category enabled } }"""

UPDATE_PROFILE = f"""mutation($input: ProfileInput!) {{
  updateMyProfile(input: $input) {{ {PROFILE_FIELDS} }} }}"""

CV_FIELDS = """id name primary courses skills drivingLicences updatedAt
  workHistory { title employer start end description occupation { id labelDa } }
  education { title level institution completedYear } languages { language level }"""

CREATE_CV = f"""mutation($input: CvInput!, $primary: Boolean! = false) {{
  createCv(input: $input, primary: $primary) {{ {CV_FIELDS} }} }}"""
UPDATE_CV = f"""mutation($id: ID!, $input: CvInput!) {{ updateCv(id: $id, input: $input) {{ {CV_FIELDS} }} }}"""
MY_CVS = f"query {{ myCvs {{ {CV_FIELDS} }} }}"
PRIVACY = """mutation($input: PrivacySettingsInput!) {
  updateMyPrivacySettings(input: $input) { privacy { profiling employerVisibility
  pushCategories { category enabled } } } }"""
HISTORY = """query($first: Int!, $after: String) { consentHistory(first: $first, after: $after) {
  edges { cursor node { setting value at source } } pageInfo { hasNextPage endCursor } } }"""

NEW_PROFILE = {
    "firstName": "Sara",
    "lastName": "Holm",
    "email": "Sara.Holm@Example.dk",
    "phone": "+45 22 33 44 55",
    "postalCode": "8000",
}

WAREHOUSE_CV = {
    "name": "Lager",
    "workHistory": [
        {
            "title": "Lagermedarbejder",
            "occupationId": WAREHOUSE_WORKER,
            "employer": "Nordlager A/S",
            "start": "2019-03",
            "end": "2024-06",
            "description": "Plukkede ordrer og kørte truck.",
        },
        {"title": "Truckfører", "occupationId": FORKLIFT_OPERATOR, "start": "2024-08"},
    ],
    "education": [{"title": "Lager og logistik", "level": "EUD", "completedYear": 2018}],
    "courses": ["Truckcertifikat B", "truckcertifikat b", "  "],
    "languages": [{"language": "Dansk", "level": "NATIVE"}],
    "drivingLicences": ["B", "C"],
    "skills": ["ordreplukning", "Scanner", "ordreplukning"],
}


async def make_citizen(client, token=NEW, profile=NEW_PROFILE) -> dict:
    result = await gql(client, UPDATE_PROFILE, token=token, variables={"input": profile})
    assert "errors" not in result, result
    return result["data"]["updateMyProfile"]


async def test_first_save_creates_the_profile_with_defaults_and_consent_history(client):
    assert (await gql(client, "{ myProfile { id } }", token=NEW))["data"]["myProfile"] is None
    profile = await make_citizen(client)
    assert profile["email"] == "sara.holm@example.dk"  # normalised
    assert (profile["postalCode"], profile["town"], profile["locationApproximate"]) == (
        "8000",
        "Aarhus C",
        False,
    )
    assert profile["privacy"]["profiling"] is True  # opt-out
    assert profile["privacy"]["employerVisibility"] == "PSEUDONYMOUS"
    history = (await gql(client, HISTORY, token=NEW, variables={"first": 50}))["data"]
    settings = {e["node"]["setting"]: e["node"] for e in history["consentHistory"]["edges"]}
    assert settings["profiling"]["value"] == "true"
    assert settings["profiling"]["source"] == "SIGN_UP"
    assert {"employerVisibility", "push.JOB_ALERTS", "push.NEWS"} <= set(settings)


async def test_every_geographic_postal_code_gets_its_town(client):
    profile = await make_citizen(client, profile=NEW_PROFILE | {"postalCode": "8210"})
    assert (profile["town"], profile["region"], profile["locationApproximate"]) == (
        "Aarhus V",
        "Region Midtjylland",
        False,
    )
    profile = await make_citizen(client, profile=NEW_PROFILE | {"town": "Aarhus V"})
    assert profile["town"] == "Aarhus V"  # what the citizen typed wins


async def test_invalid_profile_lists_every_problem_and_writes_nothing(client, world_db):
    bad = {**NEW_PROFILE, "email": "ikke-en-mail", "postalCode": "3900", "firstName": " "}
    result = await gql(client, UPDATE_PROFILE, token=NEW, variables={"input": bad})
    assert error_codes(result) == ["BAD_USER_INPUT"]
    fields = {f["field"] for f in result["errors"][0]["extensions"]["fields"]}
    assert fields == {"firstName", "email", "postalCode"}
    assert "skal udfyldes" in result["errors"][0]["message"]
    assert world_db.citizens.find_one({"_id": NEW_ID}) is None
    assert world_db.consent_events.count_documents({"citizenId": NEW_ID}) == 0
    english = await gql(
        client, UPDATE_PROFILE, token=NEW, variables={"input": bad},
        headers={"Accept-Language": "en"},
    )  # fmt: skip
    assert "is required" in english["errors"][0]["message"]


async def test_cv_needs_a_profile_first(client):
    result = await gql(client, CREATE_CV, token=NEW, variables={"input": WAREHOUSE_CV})
    assert error_codes(result) == ["NOT_FOUND"]


async def test_create_cv_cleans_input_and_keeps_the_typeahead_concept(client, world_db):
    await make_citizen(client)
    result = await gql(client, CREATE_CV, token=NEW, variables={"input": WAREHOUSE_CV})
    assert "errors" not in result, result
    cv = result["data"]["createCv"]
    assert cv["primary"] is True  # the first CV
    assert cv["courses"] == ["Truckcertifikat B"]
    assert cv["skills"] == ["ordreplukning", "Scanner"]
    # Ongoing job first; the citizen's own wording and the ESCO concept are both kept.
    assert cv["workHistory"][0]["title"] == "Truckfører"
    assert cv["workHistory"][0]["end"] is None
    assert cv["workHistory"][1]["occupation"]["id"] == WAREHOUSE_WORKER
    assert cv["languages"] == [{"language": "dansk", "level": "NATIVE"}]
    # Profiling is on: the profile was embedded straight away.
    assert world_db.profile_vectors.find_one({"_id": NEW_ID}) is not None


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"workHistory": [{"title": "Lager", "start": "2022-05", "end": "2021-01"}]}, "workHistory[0].end"),
        ({"workHistory": [{"title": "Lager", "start": "2099-01"}]}, "workHistory[0].start"),
        ({"workHistory": [{"title": "Lager", "start": "2022-13"}]}, "workHistory[0].start"),
        ({"workHistory": [{"title": "Lager", "start": "2020-01", "occupationId": "nope"}]},
         "workHistory[0].occupationId"),
        ({"workHistory": [{"title": "x" * 101, "start": "2020-01"}]}, "workHistory[0].title"),
        ({"skills": [f"s{i}" for i in range(51)]}, "skills"),
        ({"languages": [{"language": "dansk", "level": "NATIVE"},
                        {"language": "Dansk", "level": "GOOD"}]}, "languages[1].language"),
        ({"education": [{"title": "EUD", "completedYear": 1800}]}, "education[0].completedYear"),
        ({"name": ""}, "name"),
    ],
)  # fmt: skip
async def test_a_partly_invalid_cv_update_changes_nothing(client, world_db, change, field):
    await make_citizen(client)
    cv = (await gql(client, CREATE_CV, token=NEW, variables={"input": WAREHOUSE_CV}))["data"]
    before = world_db.cvs.find_one({"_id": cv["createCv"]["id"]})
    vector_before = world_db.profile_vectors.find_one({"_id": NEW_ID})
    # Valid edits alongside the invalid one must not land either.
    update = WAREHOUSE_CV | {"skills": ["ny færdighed"]} | change
    result = await gql(
        client, UPDATE_CV, token=NEW, variables={"id": cv["createCv"]["id"], "input": update}
    )
    assert error_codes(result) == ["BAD_USER_INPUT"], result
    assert field in {f["field"] for f in result["errors"][0]["extensions"]["fields"]}
    assert world_db.cvs.find_one({"_id": cv["createCv"]["id"]}) == before
    assert world_db.profile_vectors.find_one({"_id": NEW_ID}) == vector_before


async def test_unknown_enum_values_are_refused_by_the_schema(client):
    await make_citizen(client)
    bad = WAREHOUSE_CV | {"drivingLicences": ["Z"]}
    result = await gql(client, CREATE_CV, token=NEW, variables={"input": bad})
    assert error_codes(result) == ["BAD_USER_INPUT"]


async def test_changing_the_primary_cv_re_embeds_the_profile(client, world_db):
    await make_citizen(client)
    cv = (await gql(client, CREATE_CV, token=NEW, variables={"input": WAREHOUSE_CV}))["data"]
    first = world_db.profile_vectors.find_one({"_id": NEW_ID})
    cleaner = WAREHOUSE_CV | {
        "workHistory": [{"title": "Rengøringsassistent", "start": "2015-01", "end": "2023-01"}],
        "skills": ["rengøring", "hygiejne"],
    }
    result = await gql(
        client, UPDATE_CV, token=NEW, variables={"id": cv["createCv"]["id"], "input": cleaner}
    )
    assert "errors" not in result, result
    second = world_db.profile_vectors.find_one({"_id": NEW_ID})
    assert second["hash"] != first["hash"] and second["v"] != first["v"]
    # A second, non-primary CV does not touch the profile...
    other = await gql(client, CREATE_CV, token=NEW, variables={"input": WAREHOUSE_CV})
    assert world_db.profile_vectors.find_one({"_id": NEW_ID})["hash"] == second["hash"]
    # ...until it is made primary.
    other_id = other["data"]["createCv"]["id"]
    result = await gql(
        client, "mutation($id: ID!) { setPrimaryCv(id: $id) { primary } }", token=NEW,
        variables={"id": other_id},
    )  # fmt: skip
    assert result["data"]["setPrimaryCv"]["primary"] is True
    assert world_db.profile_vectors.find_one({"_id": NEW_ID})["hash"] == first["hash"]
    cvs = (await gql(client, MY_CVS, token=NEW))["data"]["myCvs"]
    assert [c["primary"] for c in cvs] == [True, False] and cvs[0]["id"] == other_id


async def test_deleting_the_primary_promotes_another_and_caps_hold(client, world_db):
    await make_citizen(client)
    ids = []
    for i in range(10):
        r = await gql(
            client, CREATE_CV, token=NEW, variables={"input": WAREHOUSE_CV | {"name": f"CV {i}"}}
        )
        ids.append(r["data"]["createCv"]["id"])
    eleventh = await gql(client, CREATE_CV, token=NEW, variables={"input": WAREHOUSE_CV})
    assert error_codes(eleventh) == ["CONFLICT"]
    assert world_db.cvs.count_documents({"citizenId": NEW_ID}) == 10
    result = await gql(
        client, "mutation($id: ID!) { deleteCv(id: $id) }", token=NEW, variables={"id": ids[0]}
    )
    assert result["data"]["deleteCv"] is True
    primaries = list(world_db.cvs.find({"citizenId": NEW_ID, "primary": True}))
    assert len(primaries) == 1 and primaries[0]["_id"] != ids[0]
    copy = await gql(
        client, 'mutation($id: ID!) { duplicateCv(id: $id, name: "Kopi") { name primary skills } }',
        token=NEW, variables={"id": ids[1]},
    )  # fmt: skip
    assert copy["data"]["duplicateCv"] == {"name": "Kopi", "primary": False,
                                           "skills": ["ordreplukning", "Scanner"]}  # fmt: skip


async def test_profiling_off_deletes_the_embedding_and_is_recorded(client, world_db):
    await make_citizen(client)
    cv = (await gql(client, CREATE_CV, token=NEW, variables={"input": WAREHOUSE_CV}))["data"]
    assert world_db.profile_vectors.find_one({"_id": NEW_ID}) is not None
    result = await gql(client, PRIVACY, token=NEW, variables={"input": {"profiling": False}})
    assert result["data"]["updateMyPrivacySettings"]["privacy"]["profiling"] is False
    assert world_db.profile_vectors.find_one({"_id": NEW_ID}) is None
    # CV changes no longer embed anything, and suggestions fall back to filters.
    await gql(
        client, UPDATE_CV, token=NEW, variables={"id": cv["createCv"]["id"], "input": WAREHOUSE_CV}
    )
    assert world_db.profile_vectors.find_one({"_id": NEW_ID}) is None
    jobs = await gql(client, "{ recommendedJobs(first: 3) { profiling } }", token=NEW)
    assert jobs["data"]["recommendedJobs"]["profiling"] is False
    assert world_db.profile_vectors.find_one({"_id": NEW_ID}) is None
    # The same setting again records nothing; other settings record one entry each.
    await gql(client, PRIVACY, token=NEW, variables={"input": {"profiling": False}})
    await gql(
        client, PRIVACY, token=NEW,
        variables={"input": {"employerVisibility": "NAMED",
                             "pushCategories": [{"category": "NEWS", "enabled": False}]}},
    )  # fmt: skip
    history = (await gql(client, HISTORY, token=NEW, variables={"first": 3}))["data"]
    newest = [e["node"] for e in history["consentHistory"]["edges"]]
    assert {(n["setting"], n["value"], n["source"]) for n in newest} == {
        ("push.NEWS", "false", "APP"),
        ("employerVisibility", "NAMED", "APP"),
        ("profiling", "false", "APP"),
    }
    assert world_db.consent_events.count_documents({"citizenId": NEW_ID, "source": "APP"}) == 3
    # Paging through the rest of the history.
    page2 = await gql(
        client, HISTORY, token=NEW,
        variables={"first": 50, "after": history["consentHistory"]["pageInfo"]["endCursor"]},
    )  # fmt: skip
    rest = [e["node"]["source"] for e in page2["data"]["consentHistory"]["edges"]]
    assert rest and set(rest) == {"SIGN_UP"}
    # Turning profiling back on embeds again.
    await gql(client, PRIVACY, token=NEW, variables={"input": {"profiling": True}})
    assert world_db.profile_vectors.find_one({"_id": NEW_ID}) is not None


async def test_job_preferences_validate_and_steer_the_profile(client, world_db):
    mutation = """mutation($input: JobPreferencesInput!) { updateMyJobPreferences(input: $input) {
      preferences { radiusKm hours contractTypes earliestStart occupations { id } } } }"""
    bad = {"occupationIds": ["ukendt"], "radiusKm": 0}
    result = await gql(client, mutation, token=DEMO, variables={"input": bad})
    assert error_codes(result) == ["BAD_USER_INPUT"]
    assert {f["field"] for f in result["errors"][0]["extensions"]["fields"]} == {
        "occupationIds[0]", "radiusKm"
    }  # fmt: skip
    before = world_db.profile_vectors.find_one({"_id": DEMO_CITIZEN_ID})
    good = {"occupationIds": [FORKLIFT_OPERATOR], "radiusKm": 15, "hours": "FULL_TIME",
            "contractTypes": ["PERMANENT"], "earliestStart": "2027-01-01"}  # fmt: skip
    result = await gql(client, mutation, token=DEMO, variables={"input": good})
    prefs = result["data"]["updateMyJobPreferences"]["preferences"]
    assert prefs == {"radiusKm": 15, "hours": "FULL_TIME", "contractTypes": ["PERMANENT"],
                     "earliestStart": "2027-01-01", "occupations": [{"id": FORKLIFT_OPERATOR}]}  # fmt: skip
    after = world_db.profile_vectors.find_one({"_id": DEMO_CITIZEN_ID})
    assert after is not None and (before is None or after["hash"] != before["hash"])
