"""Issue 16, L1: ``registerDevice`` took over another user's push token (A's pushes then went
to B). A registration is now bound to its owner by the app installation's Firebase
installation ID (FID): the token moves to another account only from the same installation
(someone signs in on a phone the previous user left signed in), and the previous owner's
registration goes with it; otherwise CONFLICT and nothing changes."""

from __future__ import annotations

import asyncio
import logging

import pytest

from tests.conftest import error_codes, gql, token_for

ALICE, BOB = "device-alice", "device-bob"
A, B = token_for(ALICE), token_for(BOB)
PHONE_A = "cAlicesPhoneFid0000001"  # 22 URL-safe base64 characters, as FIDs are
PHONE_B = "dBobsPhoneFid000000002"
TOKEN = "fcm-token-of-alices-phone:APA91b" + "x" * 100
REGISTER = """mutation($input: DeviceInput!) { registerDevice(input: $input) {
  platform tokenSuffix createdAt } }"""
MY_DEVICES = "{ myDevices { tokenSuffix platform } }"
TAKEN_DA = (
    "Enheden er allerede tilmeldt notifikationer for en anden konto. Log ud på den anden "
    "konto i appen, eller hent et nyt push-token, og prøv igen."
)
TAKEN_EN = (
    "This device is already registered for notifications for another account. Sign out of "
    "the other account in the app, or get a new push token, and try again."
)


def device(token: str = TOKEN, fid: str = PHONE_A, **extra) -> dict:
    return {"input": {"token": token, "platform": "ANDROID", "appVersion": "2.1.0",
                      "installationId": fid, **extra}}  # fmt: skip


def no_tracebacks(caplog) -> None:
    bad = [r for r in caplog.records if r.exc_info or "INTERNAL_SERVER_ERROR" in r.getMessage()]
    assert bad == [], [r.getMessage() for r in bad]


async def register(client, token: str, variables: dict, **headers) -> dict:
    return await gql(client, REGISTER, token=token, variables=variables, headers=headers)


async def test_another_installation_cannot_take_a_token(client, sync_db, caplog):
    caplog.set_level(logging.INFO)
    mine = await register(client, A, device())
    assert mine["data"]["registerDevice"]["tokenSuffix"] == TOKEN[-6:]
    before = sync_db.devices.find_one({"_id": TOKEN})
    assert before["userId"] == ALICE and before["installationId"] == PHONE_A

    taken = await register(client, B, device(fid=PHONE_B))
    assert error_codes(taken) == ["CONFLICT"]
    assert taken["errors"][0]["message"] == TAKEN_DA
    assert taken["errors"][0]["extensions"]["reason"] == "DEVICE_TOKEN_TAKEN"
    assert taken["data"] is None
    english = await register(client, B, device(fid=PHONE_B), **{"Accept-Language": "en"})
    assert english["errors"][0]["message"] == TAKEN_EN
    # Nothing changed: Alice keeps the token (her pushes still go to her phone), Bob has none.
    assert sync_db.devices.find_one({"_id": TOKEN}) == before
    assert sync_db.devices.count_documents({}) == 1
    assert (await gql(client, MY_DEVICES, token=B))["data"]["myDevices"] == []
    assert len((await gql(client, MY_DEVICES, token=A))["data"]["myDevices"]) == 1
    # Nor can Bob unregister it.
    gone = await gql(client, "mutation($t: String!) { unregisterDevice(token: $t) }", token=B,
                     variables={"t": TOKEN})  # fmt: skip
    assert error_codes(gone) == ["NOT_FOUND"]
    assert sync_db.devices.find_one({"_id": TOKEN}) == before
    no_tracebacks(caplog)


async def test_the_same_installation_moves_the_token_and_removes_the_previous_owners(
    client, sync_db
):
    """Alice left her phone signed in; Bob signs in on it. The app registers the same token
    from the same installation: it is Bob's now, and Alice no longer has it."""
    await register(client, A, device())
    alices = sync_db.devices.find_one({"_id": TOKEN})
    await asyncio.sleep(0.01)
    moved = await register(client, B, device(locale="en"))
    assert moved["data"]["registerDevice"]["tokenSuffix"] == TOKEN[-6:]
    bobs = sync_db.devices.find_one({"_id": TOKEN})
    assert bobs["userId"] == BOB and bobs["installationId"] == PHONE_A
    assert bobs["locale"] == "en" and bobs["createdAt"] > alices["createdAt"]  # a new one
    assert sync_db.devices.count_documents({"userId": ALICE}) == 0
    assert (await gql(client, MY_DEVICES, token=A))["data"]["myDevices"] == []
    # Alice cannot take it back from another installation, only on that phone again.
    assert error_codes(await register(client, A, device(fid=PHONE_B))) == ["CONFLICT"]
    assert sync_db.devices.find_one({"_id": TOKEN})["userId"] == BOB
    back = await register(client, A, device())
    assert "errors" not in back
    assert sync_db.devices.find_one({"_id": TOKEN})["userId"] == ALICE


async def test_an_installation_keeps_one_registration(client, sync_db):
    """FCM rotates the token of an installation: the old token's registration goes (it would
    reach no one, or, after a sign-in by someone else, the wrong person)."""
    await register(client, A, device(token="old-token-1"))
    await register(client, A, device(token="other-phone", fid=PHONE_B))
    await register(client, A, device(token="new-token-2"))
    assert sorted(d["_id"] for d in sync_db.devices.find({"userId": ALICE})) == [
        "new-token-2",
        "other-phone",
    ]
    # Bob signs in on Alice's phone and gets a fresh token there: Alice's is removed.
    await register(client, B, device(token="bobs-token-3"))
    assert [d["_id"] for d in sync_db.devices.find({"installationId": PHONE_A})] == ["bobs-token-3"]
    assert [d["_id"] for d in sync_db.devices.find({"userId": ALICE})] == ["other-phone"]


@pytest.mark.parametrize(
    "fid",
    ["short", "x" * 23, "cAlicesPhoneFid000000/", "cAlicesPhoneFid00000 1", "\u202e" + "a" * 21,
     "cAlicesPhoneFid00000\x001", ""],
    ids=["short", "long", "slash", "space", "rtl-override", "nul", "empty"],
)  # fmt: skip
async def test_an_installation_id_must_be_a_firebase_installation_id(client, sync_db, fid):
    result = await register(client, A, device(fid=fid))
    assert error_codes(result) == ["BAD_USER_INPUT"], result
    fields = [f["field"] for f in result["errors"][0]["extensions"]["fields"]]
    assert fields == ["installationId"]
    assert sync_db.devices.count_documents({}) == 0


async def test_the_installation_id_is_required(client, sync_db):
    variables = device()
    del variables["input"]["installationId"]
    result = await register(client, A, variables)
    assert error_codes(result) == ["BAD_USER_INPUT"], result
    assert sync_db.devices.count_documents({}) == 0


async def test_racing_registrations_of_one_token_leave_one_owner(client, sync_db, caplog):
    caplog.set_level(logging.INFO)
    attempts = [(A, PHONE_A), (B, PHONE_B)] * 5
    results = await asyncio.gather(
        *(register(client, t, device(token="racy-token", fid=f)) for t, f in attempts)
    )
    owner = sync_db.devices.find_one({"_id": "racy-token"})["userId"]
    winner = A if owner == ALICE else B
    for (token, _), result in zip(attempts, results, strict=True):
        assert error_codes(result) == ([] if token == winner else ["CONFLICT"]), result
    assert sync_db.devices.count_documents({}) == 1
    # The same user's first registrations racing each other all succeed.
    same = await asyncio.gather(
        *(register(client, A, device(token="mine-twice")) for _ in range(5))
    )
    assert all("errors" not in r for r in same), same
    assert sync_db.devices.count_documents({"_id": "mine-twice"}) == 1
    no_tracebacks(caplog)
