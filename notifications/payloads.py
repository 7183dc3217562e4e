"""FCM messages for outbox entries, one per device token.

Every message carries the text (Danish, or English for `en` users) and a data part with the
deep-link route; Android gets a TTL, the collapse key and a priority; Apple gets the matching
APNs headers. Data-only messages (``silent``) go to Apple at priority 5 with
``content-available``, as Apple requires. The encoded message stays within FCM's 4 KB: a long
body is shortened, never the data part. The JSON Schema of each payload type is in
``mobile_contract/push/``.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from datetime import datetime, timedelta

from firebase_admin import messaging

MAX_BYTES = 4096
PAYLOAD_TYPES = ("job-alert", "job-digest", "meeting-request", "meeting-update",
                 "meeting-reminder", "news")  # fmt: skip
TTL = {
    "job-alert": timedelta(days=1),
    "job-digest": timedelta(days=2),
    "meeting-request": timedelta(days=2),
    "meeting-update": timedelta(days=2),
    "meeting-reminder": timedelta(hours=1),
    "news": timedelta(days=3),
}


def collapse_key(idempotency_key: str) -> str:
    """The idempotency key doubles as collapse key; APNs allows 64 bytes, so long keys are
    hashed (same key, same hash: a repeated send replaces the first on the phone)."""
    raw = idempotency_key.encode()
    return idempotency_key if len(raw) <= 64 else hashlib.sha256(raw).hexdigest()[:64]


def build(entry: dict, token: str, now: datetime) -> messaging.Message:
    # firebase-admin 7.7 marks registration tokens deprecated in favour of installation ids
    # (``fid``); apps still register tokens, which FCM accepts, so the warning is expected.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Message.token is deprecated")
        return _build(entry, token, now)


def _build(entry: dict, token: str, now: datetime) -> messaging.Message:
    kind = entry.get("payloadType", "news")
    collapse = collapse_key(entry["idempotencyKey"])
    ttl = TTL.get(kind, timedelta(days=1))
    silent = bool(entry.get("silent"))
    urgent = bool(entry.get("critical")) or kind in ("meeting-request", "meeting-update")
    data = {
        "type": kind,
        "route": entry.get("route") or "/inbox",
        "inboxId": str(entry["inboxId"]),
        "category": entry["category"],
        "sentAt": now.isoformat(),
    }
    expires = str(int((now + ttl).timestamp()))
    if silent:
        apns = messaging.APNSConfig(
            headers={"apns-priority": "5", "apns-push-type": "background",
                     "apns-collapse-id": collapse, "apns-expiration": expires},
            payload=messaging.APNSPayload(aps=messaging.Aps(content_available=True)),
        )  # fmt: skip
        return messaging.Message(
            token=token,
            data=data,
            android=messaging.AndroidConfig(ttl=ttl, collapse_key=collapse, priority="normal"),
            apns=apns,
        )
    title, body = entry["title"], entry["body"]
    message = _alert(token, data, title, body, collapse, ttl, urgent, expires, entry["category"])
    while len(encoded(message)) > MAX_BYTES and len(body) > 20:
        body = body[: max(20, len(body) - (len(encoded(message)) - MAX_BYTES) - 2)] + "…"
        message = _alert(
            token, data, title, body, collapse, ttl, urgent, expires, entry["category"]
        )
    return message


def _alert(token, data, title, body, collapse, ttl, urgent, expires, category):
    return messaging.Message(
        token=token,
        notification=messaging.Notification(title=title, body=body),
        data=data,
        android=messaging.AndroidConfig(
            ttl=ttl,
            collapse_key=collapse,
            priority="high" if urgent else "normal",
            notification=messaging.AndroidNotification(channel_id=category.lower(), tag=collapse),
        ),
        apns=messaging.APNSConfig(
            headers={
                "apns-priority": "10" if urgent else "5",
                "apns-push-type": "alert",
                "apns-collapse-id": collapse,
                "apns-expiration": expires,
            },
            payload=messaging.APNSPayload(
                aps=messaging.Aps(sound="default", thread_id=category.lower())
            ),
        ),
    )


def encoded(message: messaging.Message) -> bytes:
    """The message as FCM receives it (the HTTP v1 ``message`` object)."""
    as_dict = messaging._MessagingService.encode_message(message)
    return json.dumps(as_dict, ensure_ascii=False, separators=(",", ":")).encode()
