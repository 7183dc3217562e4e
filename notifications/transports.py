"""Push transports. ``local`` (the default in local mode) sends nothing: it logs ids and the
category, never the text, and reports success. ``fcm`` sends through firebase-admin's
``send_each_async`` (at most 500 messages per call) and reports each message's outcome."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from enum import StrEnum
from typing import Protocol

import firebase_admin
from firebase_admin import exceptions, messaging

log = logging.getLogger("notifications.push")
MAX_PER_CALL = 500


class Outcome(StrEnum):
    SENT = "sent"
    UNREGISTERED = "unregistered"  # the app was removed: delete the token
    INVALID_TOKEN = "invalid_token"  # not a token FCM knows: delete it
    BAD_MESSAGE = "bad_message"  # our message was refused: no retry
    QUOTA = "quota"  # too many messages: retry after at least 60 s
    UNAVAILABLE = "unavailable"  # FCM had trouble: retry with back-off
    FAILED = "failed"  # anything else: retry with back-off


class PushTransport(Protocol):
    async def send(self, messages: Sequence[messaging.Message]) -> list[Outcome]: ...


class LocalTransport:
    async def send(self, messages: Sequence[messaging.Message]) -> list[Outcome]:
        for m in messages:
            log.info(
                "push delivered (local transport)",
                extra={"inbox_id": (m.data or {}).get("inboxId"),
                       "category": (m.data or {}).get("category")},
            )  # fmt: skip
        return [Outcome.SENT] * len(messages)


def classify(error: Exception | None) -> Outcome:
    if error is None:
        return Outcome.SENT
    if isinstance(error, messaging.UnregisteredError):
        return Outcome.UNREGISTERED
    if isinstance(error, exceptions.InvalidArgumentError):
        text = str(error).lower()
        return Outcome.INVALID_TOKEN if "token" in text else Outcome.BAD_MESSAGE
    if isinstance(error, messaging.QuotaExceededError | exceptions.ResourceExhaustedError):
        return Outcome.QUOTA
    if isinstance(error, exceptions.UnavailableError | exceptions.InternalError):
        return Outcome.UNAVAILABLE
    return Outcome.FAILED


class FcmTransport:
    def __init__(self, app: firebase_admin.App) -> None:
        self.app = app

    async def send(self, messages: Sequence[messaging.Message]) -> list[Outcome]:
        outcomes: list[Outcome] = []
        for start in range(0, len(messages), MAX_PER_CALL):
            chunk = list(messages[start : start + MAX_PER_CALL])
            try:
                batch = await messaging.send_each_async(chunk, app=self.app)
            except exceptions.FirebaseError as e:  # the whole call failed
                outcomes += [classify(e)] * len(chunk)
                continue
            outcomes += [classify(r.exception) for r in batch.responses]
        return outcomes
