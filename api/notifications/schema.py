from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import UTC, datetime
from functools import partial

import strawberry
from strawberry.types import Info

from api import live
from api.auth.permissions import IsAuthenticated, IsCitizen
from api.inputs import plain
from api.pagination import check_first, decode_time_cursor, time_page
from notifications import inbox

from . import service
from .types import (
    AgentAlert,
    AgentAlertConnection,
    AgentAlertEdge,
    Device,
    DeviceInput,
    JobAgent,
    JobAgentInput,
    Notification,
    NotificationConnection,
    NotificationEdge,
    NotificationPreferences,
    NotificationPreferencesInput,
)


@strawberry.type
class NotificationsQuery:
    @strawberry.field(permission_classes=[IsAuthenticated], description="Devices that get pushes.")
    async def my_devices(self, info: Info) -> list[Device]:
        docs = await service.my_devices(info.context.db, info.context.require_actor())
        return [Device.from_doc(d) for d in docs]

    @strawberry.field(permission_classes=[IsAuthenticated])
    async def notification_preferences(self, info: Info) -> NotificationPreferences:
        prefs = await service.get_preferences(info.context.db, info.context.require_actor())
        return NotificationPreferences.from_prefs(prefs)

    @strawberry.field(
        permission_classes=[IsAuthenticated], description="The inbox (Postkasse), newest first."
    )
    async def notifications(
        self, info: Info, first: int = 20, after: str | None = None, unread_only: bool = False
    ) -> NotificationConnection:
        check_first(first)
        ctx = info.context
        actor = ctx.require_actor()
        docs = await service.notifications_page(
            ctx.db, actor, first, decode_time_cursor(after), unread_only
        )
        return time_page(
            NotificationConnection, NotificationEdge, docs, first, "createdAt",
            Notification.from_doc, unread_count=await inbox.unread_count(ctx.db, actor.id),
        )  # fmt: skip

    @strawberry.field(
        permission_classes=[IsCitizen],
        description="The job agent; a basic one is made from the CV the first time.",
    )
    async def job_agent(self, info: Info) -> JobAgent:
        ctx = info.context
        return JobAgent.from_doc(await service.my_agent(ctx.db, ctx.engine, ctx.require_actor()))

    @strawberry.field(permission_classes=[IsCitizen], description="What the job agent found.")
    async def job_agent_alerts(
        self, info: Info, first: int = 20, after: str | None = None
    ) -> AgentAlertConnection:
        check_first(first)
        docs = await service.agent_alerts(
            info.context.db, info.context.require_actor(), first, decode_time_cursor(after)
        )
        return time_page(
            AgentAlertConnection, AgentAlertEdge, docs, first, "matchedAt", AgentAlert.from_doc
        )


@strawberry.type
class NotificationsMutation:
    @strawberry.mutation(
        permission_classes=[IsAuthenticated],
        description="Register (or refresh) this device for pushes; call on every app start.",
    )
    async def register_device(self, info: Info, input: DeviceInput) -> Device:
        doc = await service.register_device(
            info.context.db, info.context.require_actor(), plain(input)
        )
        return Device.from_doc(doc)

    @strawberry.mutation(permission_classes=[IsAuthenticated], description="Stop pushes here.")
    async def unregister_device(self, info: Info, token: str) -> bool:
        return await service.unregister_device(info.context.db, info.context.require_actor(), token)

    @strawberry.mutation(
        permission_classes=[IsAuthenticated],
        description="Categories on/off, quiet hours, daily cap. A citizen's category choices "
        "are consents and appear in the consent history.",
    )
    async def update_notification_preferences(
        self, info: Info, input: NotificationPreferencesInput
    ) -> NotificationPreferences:
        ctx = info.context
        prefs = await service.update_preferences(
            ctx.db, ctx.engine, ctx.require_actor(), plain(input)
        )
        return NotificationPreferences.from_prefs(prefs)

    @strawberry.mutation(permission_classes=[IsAuthenticated], description="Mark one as read.")
    async def mark_notification_read(self, info: Info, id: strawberry.ID) -> Notification:
        doc = await service.mark_read(info.context.db, info.context.require_actor(), str(id))
        return Notification.from_doc(doc)

    @strawberry.mutation(
        permission_classes=[IsAuthenticated], description="Mark all as read; returns how many."
    )
    async def mark_all_notifications_read(self, info: Info) -> int:
        return await inbox.mark_all_read(info.context.db, info.context.require_actor().id)

    @strawberry.mutation(permission_classes=[IsCitizen], description="Change the job agent.")
    async def update_job_agent(self, info: Info, input: JobAgentInput) -> JobAgent:
        ctx = info.context
        doc = await service.update_agent(ctx.db, ctx.engine, ctx.require_actor(), plain(input))
        return JobAgent.from_doc(doc)


INBOX_WATCH = live.Watch("recipientId")


@strawberry.type
class NotificationsSubscription:
    @strawberry.subscription(
        permission_classes=[IsAuthenticated], description="New inbox messages as they arrive."
    )
    async def notification_added(self, info: Info) -> AsyncGenerator[Notification, None]:
        ctx = info.context
        actor = ctx.require_actor()
        follow = live.Follower(datetime.now(UTC), ctx.settings.live_updates_lookback_s)
        fetch = partial(inbox.newer_than, ctx.db, actor.id)
        # Inbox entries are inserted, never changed, and carry recipientId.
        with live.changes(ctx.db, ctx.settings, INBOX_WATCH, actor.id) as next_change:
            while True:
                for doc in await live.poll(follow, fetch, key=lambda d: d["_id"], at="createdAt"):
                    yield Notification.from_doc(doc)
                await next_change()
