"""Push transports. ``local`` (the default in local mode) only logs that a message went out,
with ids and category but never its text; the FCM transport is used in production."""

from __future__ import annotations

import logging
from typing import Any, Protocol

log = logging.getLogger("notifications.push")


class PushTransport(Protocol):
    async def send(self, message: dict[str, Any]) -> None: ...


class LocalTransport:
    async def send(self, message: dict[str, Any]) -> None:
        log.info(
            "push delivered (local transport)",
            extra={"message_id": str(message["_id"]), "category": message.get("category")},
        )
