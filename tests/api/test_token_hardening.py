"""Issue 16: tokens that answered 500 or were accepted when they should not be.

* M3: an employer token whose ``cvr`` claim is written in superscript (or other non-ASCII)
  digits raised inside the check (HTTP 500); Arabic-Indic digits were even accepted.
* M3: in production an RS256 Firebase ID token verified while Google's certificates cannot be
  fetched raised an uncaught CertificateFetchError (500); now UNAVAILABLE, reason
  AUTH_UNAVAILABLE, with Retry-After (HTTP 503 before anything ran; 1013 on a websocket).
* L4: local tokens valid for 100 years, and ``sub: ""``, were accepted.

Each goes through the real app; the refusal is GraphQL-shaped with a Danish message, nothing
is written, and no traceback or INTERNAL_SERVER_ERROR appears in the log.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import firebase_admin
import httpx
import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from fastapi.testclient import TestClient
from firebase_admin import _token_gen

from api.app import create_app
from api.auth.actor import Role
from api.auth.erased import erased_accounts
from api.auth.firebase import FirebaseTokenVerifier
from api.auth.local_tokens import AUDIENCE, ISSUER, mint_local_token
from seed.demo import DEMO_COMPANY_CVR, DEMO_EMPLOYER_ID
from store.embedded import free_port
from tests.conftest import TEST_SECRET, error_codes, gql, receive_json_within, token_for

VIEWER = "{ viewer { id role company { cvr } } }"
PROFILE = ('mutation { updateMyProfile(input: {firstName: "Ida", lastName: "Lund", '
           'postalCode: "8000"}) { id } }')  # fmt: skip
CVR_REFUSED = "Din virksomhedskonto mangler et gyldigt CVR-nummer."
TOKEN_INVALID = "Dit login-token er ugyldigt."


def _digits(cvr: str, zero: str) -> str:
    return "".join(chr(ord(zero) + int(d)) for d in cvr)


SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def no_tracebacks(caplog) -> None:
    bad = [r for r in caplog.records if r.exc_info or "INTERNAL_SERVER_ERROR" in r.getMessage()]
    assert bad == [], [r.getMessage() for r in bad]


def hs256(payload: dict | bytes, secret: str = TEST_SECRET) -> str:
    """A local token with exactly this payload (bytes: the JSON text as it is)."""
    if isinstance(payload, dict):
        return jwt.encode(payload, secret, algorithm="HS256")
    return jwt.api_jws.encode(payload, secret, algorithm="HS256")


def claims(**extra) -> dict:
    now = int(time.time())
    return {"iss": ISSUER, "aud": AUDIENCE, "sub": "c-1", "iat": now, "exp": now + 600, **extra}


# --- M3: the cvr claim ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "cvr",
    [
        DEMO_COMPANY_CVR.translate(SUPERSCRIPT),  # raised inside int(): HTTP 500
        _digits(DEMO_COMPANY_CVR, "\u0660"),  # Arabic-Indic: was accepted as the company
        _digits(DEMO_COMPANY_CVR, "\uff10"),  # full-width
        _digits(DEMO_COMPANY_CVR, "\u0966"),  # Devanagari
        f" {DEMO_COMPANY_CVR}",
        12345678,  # not a string
    ],
    ids=["superscript", "arabic-indic", "full-width", "devanagari", "space", "number"],
)
async def test_a_cvr_claim_in_non_ascii_digits_is_unauthenticated(client, sync_db, caplog, cvr):
    caplog.set_level(logging.INFO)
    token = hs256(claims(sub=DEMO_EMPLOYER_ID, role="employer", cvr=cvr))
    for query in (VIEWER, PROFILE):
        result = await gql(client, query, token=token)
        assert error_codes(result) == ["UNAUTHENTICATED"], result
        assert result["errors"][0]["message"] == CVR_REFUSED
        assert result["data"] is None
    response = await client.post("/graphql", json={"query": VIEWER},
                                 headers={"Authorization": f"Bearer {token}",
                                          "Accept-Language": "en"})  # fmt: skip
    assert response.status_code == 200
    assert response.json()["errors"][0]["message"] == (
        "Your employer account lacks a valid CVR number."
    )
    assert sync_db.citizens.count_documents({}) == 0
    no_tracebacks(caplog)


async def test_the_ascii_cvr_still_signs_the_employer_in(client, sync_db):
    token = token_for(DEMO_EMPLOYER_ID, Role.EMPLOYER, DEMO_COMPANY_CVR)
    result = await gql(client, "{ viewer { id role } }", token=token)
    assert result["data"]["viewer"] == {"id": DEMO_EMPLOYER_ID, "role": "EMPLOYER"}


# --- L4: the subject ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "subject",
    ["", " ", "\t", "a b", " c-1", "c-1\n", "\x00", "c\x00-1", "\u202ec-1", "c\u200b1",
     "\ud800", "x" * 129, 42],
    ids=["empty", "space", "tab", "inner-space", "leading-space", "newline", "nul",
         "inner-nul", "rtl-override", "zero-width", "surrogate", "129-chars", "number"],
)  # fmt: skip
async def test_a_blank_or_unprintable_subject_is_unauthenticated(client, sync_db, caplog, subject):
    caplog.set_level(logging.INFO)
    token = (
        hs256(claims(sub=subject))
        if subject != "\ud800"
        else hs256(json.dumps(claims(sub="SUB")).replace('"SUB"', '"\\ud800"').encode())
    )
    result = await gql(client, PROFILE, token=token)
    assert error_codes(result) == ["UNAUTHENTICATED"], result
    assert result["errors"][0]["message"] == TOKEN_INVALID
    assert result["errors"][0]["extensions"]["reason"] == "TOKEN_INVALID"
    assert sync_db.citizens.count_documents({}) == 0
    no_tracebacks(caplog)


async def test_a_128_character_subject_is_an_account(client, sync_db):
    subject = "b" * 128
    result = await gql(client, PROFILE, token=hs256(claims(sub=subject)))
    assert result["data"]["updateMyProfile"]["id"] == subject


# --- L4: the lifetime of local tokens ------------------------------------------------------------
async def test_a_local_token_valid_for_100_years_is_refused(client, sync_db, caplog):
    caplog.set_level(logging.INFO)
    token = token_for("c-100-aar", ttl_s=100 * 365 * 24 * 3600)
    result = await gql(client, PROFILE, token=token)
    assert error_codes(result) == ["UNAUTHENTICATED"]
    assert result["errors"][0]["message"] == "Dit login-token gælder for længe. Log ind igen."
    assert result["errors"][0]["extensions"]["reason"] == "TOKEN_INVALID"
    english = await client.post("/graphql", json={"query": VIEWER},
                                headers={"Authorization": f"Bearer {token}",
                                         "Accept-Language": "en"})  # fmt: skip
    assert english.json()["errors"][0]["message"] == (
        "Your sign-in token is valid for too long. Please sign in again."
    )
    assert sync_db.citizens.count_documents({}) == 0
    no_tracebacks(caplog)


async def test_the_cap_is_the_setting_whatever_exp_says(client, sync_db, settings):
    cap_s = settings.local_token_max_ttl_hours * 3600
    assert cap_s == 30 * 24 * 3600  # the default
    now = int(time.time())
    at_cap = hs256(claims(sub="c-cap", iat=now, exp=now + cap_s))
    assert (await gql(client, VIEWER, token=at_cap))["data"]["viewer"]["id"] == "c-cap"
    over = hs256(claims(sub="c-cap", iat=now, exp=now + cap_s + 1))
    assert error_codes(await gql(client, VIEWER, token=over)) == ["UNAUTHENTICATED"]
    # Claims that overflow a date, or a number too long to read, are refused as invalid.
    for exp in (10**30, 10**400):
        huge = hs256(claims(sub="c-cap", iat=now, exp=exp))
        assert error_codes(await gql(client, VIEWER, token=huge)) == ["UNAUTHENTICATED"]
    digits = json.dumps(claims(sub="c-cap")).replace(str(now + 600), "9" * 5000).encode()
    result = await gql(client, VIEWER, token=hs256(digits))
    assert error_codes(result) == ["UNAUTHENTICATED"]


async def test_a_lower_cap_applies_to_the_app(settings, shared_engine, sync_db):
    capped = settings.model_copy(update={"local_token_max_ttl_hours": 1})
    shared_engine.ready = False
    app = create_app(capped, engine=shared_engine)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            two_hours = mint_local_token(TEST_SECRET, "c-2", Role.CITIZEN, ttl=timedelta(hours=2))
            assert error_codes(await gql(http, VIEWER, token=two_hours)) == ["UNAUTHENTICATED"]
            one_hour = mint_local_token(TEST_SECRET, "c-2", Role.CITIZEN, ttl=timedelta(hours=1))
            assert (await gql(http, VIEWER, token=one_hour))["data"]["viewer"]["id"] == "c-2"


# --- M3: Firebase in production while Google's certificates cannot be fetched ---------------------
PROJECT = "demo-jobunivers-prod"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class SigningKey:
    """A throwaway RSA key and its self-signed certificate, as Google publishes them."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "securetoken")])
        now = datetime.now(UTC)
        self.certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=1))
            .sign(self.key, hashes.SHA256())
        )

    def pem(self) -> str:
        return self.certificate.public_bytes(serialization.Encoding.PEM).decode()

    def id_token(self, uid: str, kid: str = "k1", ttl_s: int = 3600) -> str:
        now = int(time.time())
        payload = {
            "iss": f"https://securetoken.google.com/{PROJECT}",
            "aud": PROJECT,
            "auth_time": now,
            "sub": uid,
            "user_id": uid,
            "iat": now,
            "exp": now + ttl_s,
            "firebase": {"identities": {}, "sign_in_provider": "password"},
        }
        pem = self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        return jwt.encode(payload, pem, algorithm="RS256", headers={"kid": kid})


class FakeGoogle:
    """Google's two endpoints that verifying an ID token uses, on 127.0.0.1: the public
    certificates (kid -> PEM) and the Identity Toolkit user lookup (``users``: uid -> the
    record's disabled and validSince fields). ``down`` makes either answer 503."""

    def __init__(self, certs: dict[str, str]) -> None:
        self.certs = certs
        self.users: dict[str, dict] = {}
        self.lookups = 0
        self.down = False  # the user lookup answers 503
        google = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # the certificates (no caching: every fetch comes here)
                self._answer(200, google.certs)

            def do_POST(self) -> None:  # .../accounts:lookup
                length = int(self.headers.get("Content-Length") or 0)
                asked = json.loads(self.rfile.read(length) or b"{}").get("localId") or []
                google.lookups += 1
                if google.down:
                    self._answer(503, {"error": {"code": 503, "message": "UNAVAILABLE"}})
                    return
                users = [{"localId": uid, **google.users[uid]} for uid in asked
                         if uid in google.users]  # fmt: skip
                self._answer(200, {"users": users} if users else {})

            def log_message(self, *args) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def production_firebase(monkeypatch):
    """firebase-admin as production runs it (no emulator: RS256 signatures are checked
    against Google's certificates, then the user is looked up), with Google's URLs set by the
    test and a service-account credential that never calls Google."""
    from firebase_admin import _user_mgt

    from notifications.fake_fcm import FakeCredential

    monkeypatch.delenv("FIREBASE_AUTH_EMULATOR_HOST", raising=False)

    def make(cert_url: str, toolkit_url: str) -> firebase_admin.App:
        # Both are read when the app's Auth client is made, at its first verification.
        monkeypatch.setattr(_token_gen, "ID_TOKEN_CERT_URI", cert_url)
        monkeypatch.setattr(_user_mgt.UserManager, "ID_TOOLKIT_URL", toolkit_url)
        return firebase_admin.initialize_app(
            FakeCredential(),
            {"projectId": PROJECT, "httpTimeout": 2},
            name=f"prod-{uuid.uuid4().hex}",
        )

    apps: list[firebase_admin.App] = []
    yield lambda *urls: apps.append(make(*urls)) or apps[-1]
    for app in apps:
        firebase_admin.delete_app(app)


@pytest.fixture
def google() -> Iterator[FakeGoogle]:
    fake = FakeGoogle({})
    yield fake
    fake.close()


def unreachable() -> str:
    return f"http://127.0.0.1:{free_port()}"  # nothing listens there


def firebase_api(settings, shared_engine, fb: firebase_admin.App, **update):
    fb_settings = settings.model_copy(
        update={"auth_provider": "firebase", "firebase_project_id": PROJECT, **update}
    )
    verifier = FirebaseTokenVerifier(
        fb, erased_accounts(fb_settings), retry_after_s=fb_settings.retry_after_s
    )
    shared_engine.ready = False
    return create_app(fb_settings, verifier=verifier, engine=shared_engine)


@contextlib.asynccontextmanager
async def served(app):
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            yield http


async def assert_auth_unavailable(http: httpx.AsyncClient, token: str, settings) -> None:
    for language, message in (
        (None, "Dit login kan ikke tjekkes lige nu. Prøv igen om lidt."),
        ("en", "Your sign-in cannot be checked right now. Please try again shortly."),
    ):
        headers = {"Authorization": f"Bearer {token}"}
        if language:
            headers["Accept-Language"] = language
        response = await http.post("/graphql", json={"query": PROFILE}, headers=headers)
        assert response.status_code == 503, response.text
        assert response.headers["Retry-After"] == str(settings.retry_after_s)
        [error] = response.json()["errors"]
        assert error["message"] == message
        assert error["extensions"]["code"] == "UNAVAILABLE"
        assert error["extensions"]["reason"] == "AUTH_UNAVAILABLE"
        assert error["extensions"]["retryAfter"] == settings.retry_after_s
        assert error["extensions"]["requestId"]


async def test_a_production_rs256_token_signs_in_and_a_forged_one_does_not(
    settings, shared_engine, sync_db, production_firebase, google, caplog
):
    """The production path works against Google's endpoints (here on 127.0.0.1): so the
    outage tests below really reach the certificate fetch and the user lookup."""
    caplog.set_level(logging.INFO)
    published, other = SigningKey(), SigningKey()
    google.certs["k1"] = published.pem()
    google.users["fb-1"] = {"disabled": False, "validSince": "0"}
    app = firebase_api(settings, shared_engine,
                       production_firebase(f"{google.url}/certs", f"{google.url}/v1"))  # fmt: skip
    async with served(app) as http:
        signed_in = await gql(http, PROFILE, token=published.id_token("fb-1"))
        assert signed_in["data"]["updateMyProfile"]["id"] == "fb-1"
        assert google.lookups == 1  # check_revoked looked the user up
        for forged in (other.id_token("fb-1"), published.id_token("fb-1", kid="k9")):
            result = await gql(http, VIEWER, token=forged)
            assert error_codes(result) == ["UNAUTHENTICATED"], result
            assert result["errors"][0]["extensions"]["reason"] == "TOKEN_INVALID"
        gone = await gql(http, VIEWER, token=published.id_token("fb-unknown"))
        assert gone["errors"][0]["extensions"]["reason"] == "ACCOUNT_DELETED"
    no_tracebacks(caplog)


async def test_an_rs256_token_while_googles_certificates_are_unreachable_is_unavailable(
    settings, shared_engine, sync_db, production_firebase, caplog
):
    caplog.set_level(logging.INFO)
    app = firebase_api(settings, shared_engine,
                       production_firebase(f"{unreachable()}/certs", f"{unreachable()}/v1"))  # fmt: skip
    token = SigningKey().id_token("fb-borger-1")
    async with served(app) as http:
        await assert_auth_unavailable(http, token, settings)
    assert sync_db.citizens.count_documents({}) == 0
    no_tracebacks(caplog)
    assert token not in caplog.text


async def test_an_rs256_token_while_the_user_lookup_is_unreachable_is_unavailable(
    settings, shared_engine, sync_db, production_firebase, google, caplog
):
    caplog.set_level(logging.INFO)
    key = SigningKey()
    google.certs["k1"] = key.pem()
    app = firebase_api(settings, shared_engine,
                       production_firebase(f"{google.url}/certs", f"{unreachable()}/v1"))  # fmt: skip
    async with served(app) as http:
        await assert_auth_unavailable(http, key.id_token("fb-borger-2"), settings)
    assert sync_db.citizens.count_documents({}) == 0
    no_tracebacks(caplog)


def test_a_socket_signing_in_while_googles_certificates_are_unreachable_closes_1013(
    settings, shared_engine, sync_db, production_firebase, caplog
):
    caplog.set_level(logging.INFO)
    app = firebase_api(settings, shared_engine,
                       production_firebase(f"{unreachable()}/certs", f"{unreachable()}/v1"))  # fmt: skip
    token = SigningKey().id_token("fb-borger-3")
    with (
        TestClient(app) as http,
        http.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"]) as ws,
    ):
        ws.send_json({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}})
        message = ws.portal.call(ws._send_rx.receive)
    assert message["type"] == "websocket.close"
    assert (message["code"], message["reason"]) == (1013, "AUTH_UNAVAILABLE")
    no_tracebacks(caplog)


def test_a_production_socket_rechecks_the_user_and_closes_when_disabled(
    settings, shared_engine, sync_db, production_firebase, google, caplog
):
    """M4 in production: the socket's recheck runs check_revoked (the user lookup) in a worker
    thread. While the lookup cannot be made the socket stays open; once the user is disabled
    it closes with 4403 USER_DISABLED."""
    caplog.set_level(logging.INFO)
    key = SigningKey()
    google.certs["k1"] = key.pem()
    google.users["fb-ws"] = {"disabled": False, "validSince": "0"}
    app = firebase_api(settings, shared_engine,
                       production_firebase(f"{google.url}/certs", f"{google.url}/v1"),
                       subscription_auth_recheck_s=0.3, request_timeout_s=1.0)  # fmt: skip
    heartbeat = "subscription { heartbeat(intervalSeconds: 5) { viewerId } }"
    with (
        TestClient(app) as http,
        http.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"]) as ws,
    ):
        ws.send_json({"type": "connection_init",
                      "payload": {"authorization": f"Bearer {key.id_token('fb-ws')}"}})  # fmt: skip
        assert receive_json_within(ws, 10)["type"] == "connection_ack"
        ws.send_json({"id": "1", "type": "subscribe", "payload": {"query": heartbeat}})
        assert receive_json_within(ws, 10)["payload"]["data"]["heartbeat"]["viewerId"] == "fb-ws"
        time.sleep(1.0)
        assert google.lookups >= 3  # sign-in, then rechecks every 0.3 s
        google.down = True  # rechecks fail: the socket stays open
        failed_from = google.lookups
        time.sleep(2.0)
        assert google.lookups > failed_from
        ws.send_json({"type": "ping"})
        while (got := receive_json_within(ws, 10))["type"] != "pong":
            assert got["type"] == "next"
        google.down = False
        google.users["fb-ws"]["disabled"] = True
        message = ws.portal.call(ws._send_rx.receive)
        while message["type"] == "websocket.send":  # a heartbeat may still be on its way
            message = ws.portal.call(ws._send_rx.receive)
    assert (message["code"], message["reason"]) == (4403, "USER_DISABLED")
    no_tracebacks(caplog)
