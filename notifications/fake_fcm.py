"""A stand-in for the FCM HTTP v1 API on 127.0.0.1, for tests and benchmarks (FCM has no
emulator). It answers like FCM: ``{"name": "projects/p/messages/N"}`` or error bodies with
``google.firebase.fcm.v1.FcmError`` details. What it answers is chosen by the device token's
prefix:

* ``unregistered-...`` -> 404 UNREGISTERED
* ``invalid-...``      -> 400 INVALID_ARGUMENT (not a valid registration token)
* ``quota-...``        -> 429 QUOTA_EXCEEDED
* ``unavailable-...``  -> 503 UNAVAILABLE
* ``slow-...``         -> success after ``slow_s`` seconds
* ``flaky-...``        -> 503 the first ``flaky_failures`` times, then success
* anything else        -> success

``firebase_test_app`` builds a firebase-admin app whose messaging service points at the fake
server, with a credential whose refresh does nothing and firebase-admin's own HTTP retries
turned down, so the real send path runs without Google.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import socket
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field

import firebase_admin
import httpx
import uvicorn
from firebase_admin import _http_client, credentials, messaging
from firebase_admin._retry import HttpxRetryTransport
from google.auth import credentials as google_credentials
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

_ERRORS = {
    "unregistered": (404, "NOT_FOUND", "UNREGISTERED", "Requested entity was not found."),
    "invalid": (
        400,
        "INVALID_ARGUMENT",
        "INVALID_ARGUMENT",
        "The registration token is not a valid FCM registration token",
    ),
    "quota": (429, "RESOURCE_EXHAUSTED", "QUOTA_EXCEEDED", "Quota exceeded."),
    "unavailable": (503, "UNAVAILABLE", None, "The service is currently unavailable."),
}


@dataclass
class FakeFcm:
    slow_s: float = 2.0
    flaky_failures: int = 2
    received: list[dict] = field(default_factory=list)
    _seen: dict[str, int] = field(default_factory=dict)
    port: int = 0
    _server: uvicorn.Server | None = None
    _thread: threading.Thread | None = None
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1/projects/p/messages:send"

    def tokens(self) -> list[str]:
        with self._lock:
            return [m["message"].get("token", "") for m in self.received]

    async def _send(self, request: Request) -> JSONResponse:
        body = json.loads(await request.body())
        token = body.get("message", {}).get("token", "")
        with self._lock:
            self.received.append(body)
        kind = token.split("-", 1)[0]
        if kind == "flaky":
            with self._lock:
                self._seen[token] = self._seen.get(token, 0) + 1
                kind = "unavailable" if self._seen[token] <= self.flaky_failures else "ok"
        if kind == "slow":
            await asyncio.sleep(self.slow_s)
        if kind in _ERRORS:
            code, status, fcm_code, message = _ERRORS[kind]
            details = []
            if fcm_code:
                details.append({"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError",
                                "errorCode": fcm_code})  # fmt: skip
            return JSONResponse(
                {"error": {"code": code, "message": message, "status": status,
                           "details": details}},
                status_code=code,
            )  # fmt: skip
        return JSONResponse({"name": f"projects/p/messages/{next(self._ids)}"})

    def start(self) -> FakeFcm:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        sock.close()
        app = Starlette(
            routes=[Route("/v1/projects/p/messages:send", self._send, methods=["POST"])]
        )
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning",
                                access_log=False, lifespan="off")  # fmt: skip
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        for _ in range(200):
            if self._server.started:
                return self
            time.sleep(0.02)
        raise RuntimeError("fake FCM server did not start")

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=5)


class _NoRefresh(google_credentials.Credentials):
    """A credential that is always valid and never calls Google."""

    def __init__(self) -> None:
        super().__init__()
        self.token = "fake-access-token"

    def refresh(self, request) -> None:
        self.token = "fake-access-token"

    @property
    def expired(self) -> bool:
        return False

    @property
    def valid(self) -> bool:
        return True


class FakeCredential(credentials.Base):
    def __init__(self) -> None:
        self._g = _NoRefresh()

    def get_credential(self):
        return self._g


class FakeFcmProcess:
    """The fake server in its own process, speaking HTTP/2 (cleartext, prior knowledge) like
    FCM does, so a benchmark measures the sender and not the server sharing its interpreter.
    It only counts what it receives (``/stats``)."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1/projects/p/messages:send"

    def start(self) -> FakeFcmProcess:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        sock.close()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "notifications.fake_fcm", "--port", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(300):
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/stats", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.05)
        raise RuntimeError("fake FCM server process did not start")

    def received(self) -> int:
        return httpx.get(f"http://127.0.0.1:{self.port}/stats", timeout=5).json()["received"]

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)


def _serve(port: int) -> None:
    from hypercorn.asyncio import serve
    from hypercorn.config import Config

    fake = FakeFcm()

    async def stats(_: Request) -> JSONResponse:
        return JSONResponse({"received": len(fake.received)})

    app = Starlette(
        routes=[
            Route("/v1/projects/p/messages:send", fake._send, methods=["POST"]),
            Route("/stats", stats),
        ]
    )
    config = Config()
    config.bind = [f"127.0.0.1:{port}"]
    config.loglevel = "WARNING"
    config.h2_max_concurrent_streams = 1000
    config.keep_alive_max_requests = 10**9  # FCM keeps connections open; hypercorn: 1000
    asyncio.run(serve(app, config))


def firebase_test_app(
    fcm_url: str, http_retries: int = 0, http2_prior_knowledge: bool = False
) -> firebase_admin.App:
    app = firebase_admin.initialize_app(
        FakeCredential(), {"projectId": "p"}, name=f"fake-fcm-{uuid.uuid4().hex[:8]}"
    )
    service = messaging._get_messaging_service(app)
    service._fcm_url = fcm_url
    retry = _http_client.HttpxRetry(
        max_retries=http_retries, status_forcelist=[500, 503], backoff_factor=0
    )
    client = _http_client.HttpxAsyncClient(credential=service._credential, retry_config=retry)
    if http2_prior_knowledge:
        # Cleartext HTTP/2 to the local fake, as FCM's https endpoint negotiates HTTP/2.
        client._async_client = httpx.AsyncClient(
            http2=True,
            timeout=60,
            headers=client._headers,
            auth=_http_client.GoogleAuthCredentialFlow(service._credential),
            mounts={"http://": HttpxRetryTransport(retry=retry, http1=False)},
        )
    service._async_client = client
    return app


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="Fake FCM HTTP v1 server (HTTP/2).")
    parser.add_argument("--port", type=int, required=True)
    _serve(parser.parse_args().port)
