"""Firebase ID tokens through the real firebase-admin code path, against the Firebase Auth
emulator (npm firebase-tools, started here on free ports with its UI disabled).

FIREBASE_AUTH_EMULATOR_HOST makes firebase-admin skip signature checks, which is why
production refuses to start while it is set; here it is what lets the emulator stand in.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import firebase_admin
import httpx
import pytest
from firebase_admin import auth, credentials

from api.app import create_app
from api.auth.actor import Actor, Role
from api.auth.erased import account_digest
from api.auth.firebase import FirebaseTokenVerifier, firebase_app
from api.housekeeping import SyncState, run_once
from api.privacy import service as privacy
from core.settings import PROJECT_ROOT
from seed.demo import DEMO_COMPANY_CVR, seed_demo_accounts
from store.embedded import free_port
from tests.conftest import error_codes

PROJECT = "demo-jobunivers"
FIREBASE_BIN = PROJECT_ROOT / "node_modules" / ".bin" / "firebase"
VIEWER = "{ viewer { id role company { cvr name } } }"


@pytest.fixture(scope="module")
def auth_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not FIREBASE_BIN.exists():
        pytest.fail("firebase-tools missing: run `make test` (it runs npm ci --ignore-scripts)")
    workdir: Path = tmp_path_factory.mktemp("firebase")
    port = free_port()
    config = {
        "emulators": {
            "auth": {"host": "127.0.0.1", "port": port},
            "hub": {"host": "127.0.0.1", "port": free_port()},
            "logging": {"host": "127.0.0.1", "port": free_port()},
            "ui": {"enabled": False},
            "singleProjectMode": True,
        }
    }
    (workdir / "firebase.json").write_text(json.dumps(config))
    env = {**os.environ, "NO_UPDATE_NOTIFIER": "1", "FIREBASE_CLI_DISABLE_UPDATE_CHECK": "1"}
    log = open(workdir / "emulator.log", "wb")  # noqa: SIM115 - closed in teardown
    proc = subprocess.Popen(
        [str(FIREBASE_BIN), "emulators:start", "--only", "auth", "--project", PROJECT],
        cwd=workdir,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    host = f"127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://{host}/", timeout=1).status_code < 500:
                break
        except httpx.HTTPError:
            time.sleep(0.5)
        if proc.poll() is not None:
            pytest.fail(f"emulator exited: {(workdir / 'emulator.log').read_text()[-2000:]}")
    else:
        proc.kill()
        pytest.fail("Firebase Auth emulator did not start within 90 s")
    previous = os.environ.get("FIREBASE_AUTH_EMULATOR_HOST")
    os.environ["FIREBASE_AUTH_EMULATOR_HOST"] = host
    yield host
    if previous is None:
        os.environ.pop("FIREBASE_AUTH_EMULATOR_HOST", None)
    else:
        os.environ["FIREBASE_AUTH_EMULATOR_HOST"] = previous
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


def _identity(host: str, action: str, email: str, password: str) -> dict:
    response = httpx.post(
        f"http://{host}/identitytoolkit.googleapis.com/v1/accounts:{action}?key=fake-api-key",
        json={"email": email, "password": password, "returnSecureToken": True},
        timeout=10,
    )
    response.raise_for_status()
    return response.json()


@pytest.fixture
def firebase_settings(settings, auth_emulator):
    return settings.model_copy(update={"auth_provider": "firebase", "firebase_project_id": PROJECT})


@pytest.fixture
async def fb_app(firebase_settings, sync_db):
    app = create_app(firebase_settings)
    async with app.router.lifespan_context(app):
        await seed_demo_accounts(app.state.store.db)
        yield app


@pytest.fixture
async def fb_client(fb_app):
    transport = httpx.ASGITransport(app=fb_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        yield client


async def _viewer(client: httpx.AsyncClient, token: str) -> dict:
    response = await client.post(
        "/graphql", json={"query": VIEWER}, headers={"Authorization": f"Bearer {token}"}
    )
    return response.json()


def _new_user(host: str, name: str) -> tuple[str, str, str]:
    email, password = f"{name}-{time.time_ns()}@example.dk", "hemmeligt-1"
    data = _identity(host, "signUp", email, password)
    return data["localId"], email, password


async def test_signed_up_user_is_a_citizen(fb_client, auth_emulator):
    uid, email, password = _new_user(auth_emulator, "borger")
    token = _identity(auth_emulator, "signInWithPassword", email, password)["idToken"]
    result = await _viewer(fb_client, token)
    assert result["data"]["viewer"] == {"id": uid, "role": "CITIZEN", "company": None}


async def test_employer_claims_map_to_company(fb_client, auth_emulator, firebase_settings):
    uid, email, password = _new_user(auth_emulator, "arbejdsgiver")
    app = firebase_app(firebase_settings)
    auth.set_custom_user_claims(uid, {"role": "employer", "cvr": DEMO_COMPANY_CVR}, app=app)
    token = _identity(auth_emulator, "signInWithPassword", email, password)["idToken"]
    viewer = (await _viewer(fb_client, token))["data"]["viewer"]
    assert viewer["role"] == "EMPLOYER"
    assert viewer["company"]["cvr"] == DEMO_COMPANY_CVR


async def test_revoked_token_is_rejected(fb_client, auth_emulator, firebase_settings):
    uid, email, password = _new_user(auth_emulator, "revoked")
    token = _identity(auth_emulator, "signInWithPassword", email, password)["idToken"]
    assert (await _viewer(fb_client, token))["data"]["viewer"]["id"] == uid
    await asyncio.sleep(1.1)  # revocation is recorded in whole seconds after the token's iat
    auth.revoke_refresh_tokens(uid, app=firebase_app(firebase_settings))
    result = await _viewer(fb_client, token)
    assert error_codes(result) == ["UNAUTHENTICATED"]
    assert result["errors"][0]["extensions"]["reason"] == "TOKEN_REVOKED"


async def test_disabled_user_is_rejected(fb_client, auth_emulator, firebase_settings):
    uid, email, password = _new_user(auth_emulator, "disabled")
    token = _identity(auth_emulator, "signInWithPassword", email, password)["idToken"]
    auth.update_user(uid, disabled=True, app=firebase_app(firebase_settings))
    result = await _viewer(fb_client, token)
    assert error_codes(result) == ["UNAUTHENTICATED"]
    assert result["errors"][0]["extensions"]["reason"] == "USER_DISABLED"


async def test_garbage_firebase_token_is_rejected(fb_client):
    result = await _viewer(fb_client, "eyJhbGciOiJub25lIn0.e30.")
    assert error_codes(result) == ["UNAUTHENTICATED"]


async def test_deleting_the_account_removes_the_firebase_user(
    fb_client, auth_emulator, firebase_settings, sync_db
):
    uid, email, password = _new_user(auth_emulator, "sletning")
    token = _identity(auth_emulator, "signInWithPassword", email, password)["idToken"]
    headers = {"Authorization": f"Bearer {token}"}
    profile = 'mutation { updateMyProfile(input: {firstName: "Ida", lastName: "Lund", postalCode: "8000"}) { id } }'
    created = (await fb_client.post("/graphql", json={"query": profile}, headers=headers)).json()
    assert created["data"]["updateMyProfile"]["id"] == uid
    erase = "mutation { deleteMyAccount(confirm: true) { recordsErased } }"
    result = (await fb_client.post("/graphql", json={"query": erase}, headers=headers)).json()
    assert result["data"]["deleteMyAccount"]["recordsErased"] >= 1
    with pytest.raises(auth.UserNotFoundError):
        auth.get_user(uid, app=firebase_app(firebase_settings))
    again = await _viewer(fb_client, token)
    assert error_codes(again) == ["UNAUTHENTICATED"]
    assert again["errors"][0]["extensions"]["reason"] == "ACCOUNT_DELETED"
    # Recorded: when, and that the sign-in account went on the first attempt; no uid kept.
    grave = sync_db.deleted_accounts.find_one({"_id": account_digest(uid)})
    assert grave["signIn"] == "DELETED" and grave["attempts"] == 1
    assert "pendingUid" not in grave and uid not in str(grave)


@contextlib.contextmanager
def unreachable_firebase() -> Iterator[firebase_admin.App]:
    """A Firebase app whose Auth calls go to a port where nothing listens: a real connection
    failure through firebase-admin's own HTTP client (it reads the emulator host once, when its
    Auth client is made, so the rest of the module keeps the real emulator)."""
    previous = os.environ["FIREBASE_AUTH_EMULATOR_HOST"]
    os.environ["FIREBASE_AUTH_EMULATOR_HOST"] = f"127.0.0.1:{free_port()}"
    app = firebase_admin.initialize_app(
        credentials.ApplicationDefault(), {"projectId": PROJECT}, name=f"down-{uuid.uuid4().hex}"
    )
    try:
        with contextlib.suppress(Exception):  # makes the Auth client while the host is wrong
            auth.get_user("nobody", app=app)
    finally:
        os.environ["FIREBASE_AUTH_EMULATOR_HOST"] = previous
    try:
        yield app
    finally:
        firebase_admin.delete_app(app)


async def test_a_failed_sign_in_deletion_is_retried_until_it_succeeds(
    fb_app, fb_client, auth_emulator, firebase_settings, sync_db
):
    uid, email, password = _new_user(auth_emulator, "fejlet-sletning")
    token = _identity(auth_emulator, "signInWithPassword", email, password)["idToken"]
    headers = {"Authorization": f"Bearer {token}"}
    profile = 'mutation { updateMyProfile(input: {firstName: "Ole", lastName: "Berg", postalCode: "8000"}) { id } }'
    created = (await fb_client.post("/graphql", json={"query": profile}, headers=headers)).json()
    assert created["data"]["updateMyProfile"]["id"] == uid
    db, engine = fb_app.state.store.db, fb_app.state.engine
    erased = [fb_app.state.erased_accounts]
    app = firebase_app(firebase_settings)
    with unreachable_firebase() as down:
        # The erasure itself, while Firebase cannot be reached: the data goes, the sign-in
        # account stays, and the failed attempt is recorded.
        receipt = await privacy.delete_my_account(
            db, FirebaseTokenVerifier(down), Actor(id=uid, role=Role.CITIZEN), True
        )
        assert receipt["recordsErased"] >= 1
        grave = sync_db.deleted_accounts.find_one({"_id": account_digest(uid)})
        assert grave["signIn"] == "PENDING" and grave["pendingUid"] == uid
        assert grave["attempts"] == 1 and grave["lastError"]
        assert auth.get_user(uid, app=app).uid == uid  # still there
        first_retry = grave["nextAttemptAt"]
        # The token is refused anyway, once this instance's housekeeping has read the
        # tombstone; the retry is not due yet.
        now = datetime.now(UTC)
        figures = await run_once(db, firebase_settings, engine, SyncState(), now, erased=erased)
        assert figures["erased_accounts_read"] >= 1 and figures["sign_in_accounts_deleted"] == 0
        again = await _viewer(fb_client, token)
        assert again["errors"][0]["extensions"]["reason"] == "ACCOUNT_DELETED"
        # Due, but Firebase is still down: the attempt fails, is recorded, and waits longer.
        figures = await run_once(db, firebase_settings, engine, SyncState(), first_retry,
                                 sign_in_accounts=FirebaseTokenVerifier(down))  # fmt: skip
        assert figures["sign_in_accounts_deleted"] == 0
        grave = sync_db.deleted_accounts.find_one({"_id": account_digest(uid)})
        assert grave["attempts"] == 2 and grave["signIn"] == "PENDING"
        assert grave["nextAttemptAt"] - first_retry >= timedelta(minutes=2)
    # Firebase is back: the next due run deletes the sign-in account and records when.
    later = grave["nextAttemptAt"]
    figures = await run_once(db, firebase_settings, engine, SyncState(), later)
    assert figures["sign_in_accounts_deleted"] == 1
    with pytest.raises(auth.UserNotFoundError):
        auth.get_user(uid, app=app)
    grave = sync_db.deleted_accounts.find_one({"_id": account_digest(uid)})
    assert grave["signIn"] == "DELETED" and grave["attempts"] == 3
    assert grave["signInDeletedAt"] == later.replace(microsecond=later.microsecond // 1000 * 1000)
    assert "pendingUid" not in grave and uid not in str(grave)
    # Done once: later runs leave it alone.
    assert (await run_once(db, firebase_settings, engine, SyncState(), later + timedelta(days=1)))[
        "sign_in_accounts_deleted"
    ] == 0


# --- issue 16, M4: a socket re-checks its Firebase session -------------------------------------
def test_a_socket_closes_when_its_firebase_session_is_revoked(
    auth_emulator, firebase_settings, sync_db
):
    """check_revoked runs again every subscription_auth_recheck_s on an open socket: after
    revoke_refresh_tokens the socket closes with 4403 TOKEN_REVOKED (before: it lived on)."""
    from fastapi.testclient import TestClient

    from tests.conftest import receive_json_within

    uid, email, password = _new_user(auth_emulator, "ws-revoked")
    token = _identity(auth_emulator, "signInWithPassword", email, password)["idToken"]
    app = create_app(firebase_settings.model_copy(update={"subscription_auth_recheck_s": 0.3}))
    beat = "subscription { heartbeat(intervalSeconds: 5) { viewerId } }"
    with (
        TestClient(app) as http,
        http.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"]) as ws,
    ):
        ws.send_json({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}})
        assert receive_json_within(ws, 10)["type"] == "connection_ack"
        ws.send_json({"id": "1", "type": "subscribe", "payload": {"query": beat}})
        assert receive_json_within(ws, 10)["payload"]["data"]["heartbeat"]["viewerId"] == uid
        time.sleep(1.1)  # revocation is recorded in whole seconds after the token's iat
        ws.send_json({"type": "ping"})  # rechecks passed meanwhile: still open
        assert receive_json_within(ws, 10)["type"] == "pong"
        auth.revoke_refresh_tokens(uid, app=firebase_app(firebase_settings))
        revoked_at = time.monotonic()
        message = ws.portal.call(ws._send_rx.receive)
        while message["type"] == "websocket.send":  # a heartbeat may be on its way
            message = ws.portal.call(ws._send_rx.receive)
    assert (message["code"], message["reason"]) == (4403, "TOKEN_REVOKED")
    assert time.monotonic() - revoked_at < 3
