from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from datetime import UTC, datetime

import strawberry
from strawberry.types import Info

from api.auth.permissions import IsAuthenticated
from core.errors import BadUserInput

from .types import Viewer


@strawberry.type(description="A keep-alive tick on an authenticated subscription socket.")
class Heartbeat:
    at: datetime
    viewer_id: strawberry.ID


@strawberry.type
class ViewerQuery:
    @strawberry.field(
        permission_classes=[IsAuthenticated], description="The authenticated account."
    )
    async def viewer(self, info: Info) -> Viewer:
        return Viewer.from_actor(info.context.require_actor())


@strawberry.type
class ViewerSubscription:
    @strawberry.subscription(
        permission_classes=[IsAuthenticated],
        description=(
            "Ticks every intervalSeconds (5-300) while the socket is open and authenticated; "
            "lets the app check its live connection end to end."
        ),
    )
    async def heartbeat(
        self, info: Info, interval_seconds: int = 30
    ) -> AsyncGenerator[Heartbeat, None]:
        if not 5 <= interval_seconds <= 300:
            raise BadUserInput(
                "intervalSeconds skal være mellem 5 og 300.",
                "intervalSeconds must be between 5 and 300.",
            )
        actor = info.context.require_actor()
        while True:
            yield Heartbeat(at=datetime.now(UTC), viewer_id=strawberry.ID(actor.id))
            await asyncio.sleep(interval_seconds)
