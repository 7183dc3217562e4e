from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry
from strawberry.types import Info

from api.citizens.types import PushCategory
from api.jobs.types import Hours, JobPosting
from api.pagination import PageInfo
from api.taxonomy.types import Occupation
from matching.records import PostingRecord


@strawberry.enum
class DevicePlatform(Enum):
    IOS = "IOS"
    ANDROID = "ANDROID"
    WEB = "WEB"


@strawberry.type(description="A phone or browser that receives pushes.")
class Device:
    platform: DevicePlatform
    app_version: str
    locale: str
    last_seen_at: datetime
    created_at: datetime
    token_suffix: str = strawberry.field(description="The token's last 6 characters.")

    @classmethod
    def from_doc(cls, d: dict) -> Device:
        return cls(
            platform=DevicePlatform(d["platform"]),
            app_version=d["appVersion"],
            locale=d.get("locale", "da"),
            last_seen_at=d["lastSeenAt"],
            created_at=d["createdAt"],
            token_suffix=d["_id"][-6:],
        )


@strawberry.input
class DeviceInput:
    token: str = strawberry.field(description="The FCM registration token.")
    platform: DevicePlatform
    app_version: str
    locale: str = "da"
    installation_id: str = strawberry.field(
        description="The app installation's Firebase installation ID (22 characters; "
        "FirebaseInstallations getId). A token registered to another account moves only "
        "from the same installation; otherwise CONFLICT. Added in contract 0.2 (issue 16)."
    )


@strawberry.type
class CategorySetting:
    category: PushCategory
    enabled: bool


@strawberry.type(description="When and what the user wants pushed.")
class NotificationPreferences:
    categories: list[CategorySetting]
    quiet_hours_start: str | None = strawberry.field(
        description="HH:MM Danish time; null: no quiet hours."
    )
    quiet_hours_end: str | None
    daily_cap: int = strawberry.field(description="Pushes per day at most (meeting-critical "
                                      "messages excepted).")  # fmt: skip

    @classmethod
    def from_prefs(cls, p) -> NotificationPreferences:
        return cls(
            categories=[
                CategorySetting(category=PushCategory(k), enabled=v)
                for k, v in p.categories.items()
            ],
            quiet_hours_start=p.quiet_start.strftime("%H:%M") if p.quiet_start else None,
            quiet_hours_end=p.quiet_end.strftime("%H:%M") if p.quiet_end else None,
            daily_cap=p.daily_cap,
        )


@strawberry.input
class CategoryInput:
    category: PushCategory
    enabled: bool


@strawberry.input(description="Only what is given changes.")
class NotificationPreferencesInput:
    categories: list[CategoryInput] | None = None
    quiet_hours_start: str | None = None
    quiet_hours_end: str | None = None
    quiet_hours_off: bool = False
    daily_cap: int | None = None


@strawberry.type(description="A message in the inbox (Postkasse).")
class Notification:
    id: strawberry.ID
    category: PushCategory
    title: str
    body: str
    route: str | None = strawberry.field(description="Where in the app to go.")
    created_at: datetime
    read_at: datetime | None

    @classmethod
    def from_doc(cls, d: dict) -> Notification:
        return cls(
            id=strawberry.ID(d["_id"]),
            category=PushCategory(d["category"]),
            title=d["title"],
            body=d["body"],
            route=d.get("route"),
            created_at=d["createdAt"],
            read_at=d.get("readAt"),
        )


@strawberry.type
class NotificationEdge:
    cursor: str
    node: Notification


@strawberry.type
class NotificationConnection:
    edges: list[NotificationEdge]
    page_info: PageInfo
    unread_count: int


@strawberry.enum
class AgentCadence(Enum):
    INSTANT = "INSTANT"
    DAILY = "DAILY"
    WEEKLY = "WEEKLY"


@strawberry.type(description="The citizen's job agent (jobagent).")
class JobAgent:
    occupation_ids: strawberry.Private[list[str]]
    radius_km: int
    hours: Hours
    keywords: list[str]
    cadence: AgentCadence
    active: bool
    automatic: bool = strawberry.field(description="Still the basic agent made from the CV.")
    updated_at: datetime

    @strawberry.field
    async def occupations(self, info: Info) -> list[Occupation]:
        docs = await info.context.loaders.occupation_by_id.load_many(self.occupation_ids)
        return [Occupation.from_doc(d) for d in docs if d]

    @classmethod
    def from_doc(cls, d: dict) -> JobAgent:
        return cls(
            occupation_ids=list(d.get("occupationIds", [])),
            radius_km=int(d.get("radiusKm", 30)),
            hours=Hours(d.get("hours", "ANY")),
            keywords=list(d.get("keywords", [])),
            cadence=AgentCadence(d.get("cadence", "DAILY")),
            active=bool(d.get("active", True)),
            automatic=bool(d.get("auto", False)),
            updated_at=d["updatedAt"],
        )


@strawberry.input
class JobAgentInput:
    occupation_ids: list[strawberry.ID] = strawberry.field(default_factory=list)
    radius_km: int = 30
    hours: Hours = Hours.ANY
    keywords: list[str] = strawberry.field(default_factory=list)
    cadence: AgentCadence = AgentCadence.DAILY
    active: bool = True


@strawberry.type(description="A job the agent found (or suggested to reach five a week).")
class AgentAlert:
    matched_at: datetime
    strong: bool
    broadened: bool = strawberry.field(description="A related job, not a full match.")
    sent: bool
    posting_id: strawberry.Private[str]

    @strawberry.field
    async def posting(self, info: Info) -> JobPosting | None:
        doc = await info.context.loaders.posting_by_id.load(self.posting_id)
        return JobPosting.from_record(PostingRecord.from_doc(doc)) if doc else None

    @classmethod
    def from_doc(cls, d: dict) -> AgentAlert:
        return cls(
            matched_at=d["matchedAt"],
            strong=bool(d.get("strong")),
            broadened=bool(d.get("broadened")),
            sent=d.get("status") == "SENT",
            posting_id=d["postingId"],
        )


@strawberry.type
class AgentAlertEdge:
    cursor: str
    node: AgentAlert


@strawberry.type
class AgentAlertConnection:
    edges: list[AgentAlertEdge]
    page_info: PageInfo
