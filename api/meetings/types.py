from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types import Info

from api.auth.actor import Role
from api.citizens.types import DrivingLicence, LanguageLevel, LanguageSkill
from api.offers.types import CoffeeMeetingOffer, MeetingMode
from api.pagination import PageInfo

from . import ics, rules
from .candidate import CandidateView
from .contacts import Contact, citizen_contact
from .repository import MeetingDoc, MeetingRequestDoc, SwipeDoc

# The GraphQL enums are the feature's own (rules.py), so each set of states is spelled once.
DistanceBand = strawberry.enum(
    rules.DistanceBand, description="How far the candidate lives from the meeting place."
)
SwipeDecision = strawberry.enum(rules.SwipeDecision)
SwipeReason = strawberry.enum(
    rules.SwipeReason, description="Why not; used only to improve this citizen's own deck."
)
MeetingRequestStatus = strawberry.enum(rules.RequestStatus, name="MeetingRequestStatus")
DeclineReason = strawberry.enum(rules.DeclineReason)
MeetingStatus = strawberry.enum(rules.MeetingStatus)
MeetingOutcome = strawberry.enum(rules.MeetingOutcome)
UpdateKind = strawberry.enum(rules.ChangeKind, name="UpdateKind")


@strawberry.type
class ExperienceItem:
    title: str
    months: int


@strawberry.type(
    description=(
        "A candidate behind a meeting request, as the citizen allows: pseudonymous (initial) "
        "until the request is accepted unless they chose to show their name; e-mail and phone "
        "only after acceptance. Former employers are never shown."
    )
)
class Candidate:
    request_id: strawberry.ID
    initial: str
    name: str | None
    email: str | None
    phone: str | None
    experience: list[ExperienceItem]
    education: list[str]
    skills: list[str]
    courses: list[str]
    driving_licences: list[DrivingLicence]
    languages: list[LanguageSkill]
    distance_band: DistanceBand | None

    @classmethod
    def from_view(cls, v: CandidateView) -> Candidate:
        return cls(
            request_id=strawberry.ID(v.request_id),
            initial=v.initial,
            name=v.name,
            email=v.email,
            phone=v.phone,
            experience=[ExperienceItem(title=t, months=m) for t, m in v.experience],
            education=v.education,
            skills=v.skills,
            courses=v.courses,
            driving_licences=[DrivingLicence(x) for x in v.driving_licences],
            languages=[
                LanguageSkill(language=language, level=LanguageLevel(level))
                for language, level in v.languages
            ],
            distance_band=v.distance_band,
        )


async def _offer(info: Info, offer_id: str) -> CoffeeMeetingOffer | None:
    doc = await info.context.loaders.offer_by_id.load(offer_id)
    return CoffeeMeetingOffer.from_doc(doc) if doc else None


@strawberry.type(description="A card in the swipe deck, with why it is shown.")
class SwipeCard:
    offer: CoffeeMeetingOffer
    reason: str
    fit: float = strawberry.field(description="0-1; the deck's order also rotates daily.")
    distance_km: float | None = strawberry.field(description="Null for video meetings.")


@strawberry.type(description="The citizen's answer to a coffee-meeting card.")
class Swipe:
    offer_id: strawberry.ID
    decision: SwipeDecision
    reason: SwipeReason | None
    created_at: datetime
    request_id: strawberry.Private[str | None]

    @strawberry.field(description="The meeting request a YES sent.")
    async def request(self, info: Info) -> MeetingRequest | None:
        if not self.request_id:
            return None
        doc = await info.context.loaders.meeting_request_by_id.load(self.request_id)
        return MeetingRequest.from_doc(doc) if doc else None

    @classmethod
    def from_doc(cls, d: SwipeDoc) -> Swipe:
        return cls(
            offer_id=strawberry.ID(d["offerId"]),
            decision=SwipeDecision(d["decision"]),
            reason=SwipeReason(d["reason"]) if d.get("reason") else None,
            created_at=d["createdAt"],
            request_id=d.get("requestId"),
        )


@strawberry.type(description="The citizen's own meeting request.")
class MeetingRequest:
    id: strawberry.ID
    status: MeetingRequestStatus
    created_at: datetime
    seen_at: datetime | None
    offer_id: strawberry.Private[str]

    @strawberry.field
    async def offer(self, info: Info) -> CoffeeMeetingOffer | None:
        return await _offer(info, self.offer_id)

    @classmethod
    def from_doc(cls, d: MeetingRequestDoc) -> MeetingRequest:
        return cls(
            id=strawberry.ID(d["_id"]),
            status=MeetingRequestStatus(d["status"]),
            created_at=d["createdAt"],
            seen_at=d.get("seenAt"),
            offer_id=d["offerId"],
        )


@strawberry.type(description="A request to one of the company's offers, with its fit.")
class IncomingMeetingRequest:
    id: strawberry.ID
    status: MeetingRequestStatus
    created_at: datetime
    fit: float
    candidate: Candidate


@strawberry.type
class IncomingMeetingRequestEdge:
    cursor: str
    node: IncomingMeetingRequest


@strawberry.type
class IncomingMeetingRequestConnection:
    edges: list[IncomingMeetingRequestEdge]
    page_info: PageInfo


@strawberry.type(description="Who you meet; known to both sides once a meeting is confirmed.")
class MeetingContact:
    name: str | None
    email: str | None
    phone: str | None

    @classmethod
    def from_contact(cls, c: Contact) -> MeetingContact:
        return cls(name=c.name, email=c.email, phone=c.phone)


@strawberry.type
class MeetingEvent:
    status: MeetingStatus
    at: datetime
    by: str = strawberry.field(description="citizen or employer.")


@strawberry.type(description="A confirmed coffee meeting.")
class Meeting:
    id: strawberry.ID
    status: MeetingStatus
    title: str
    company_name: str
    starts_at: datetime
    ends_at: datetime
    mode: MeetingMode
    address: str | None
    video_url: str | None
    offer_id: strawberry.ID
    history: list[MeetingEvent]
    doc: strawberry.Private[MeetingDoc]

    async def _contact(self, info: Info) -> Contact:
        """The other side, through the request's loaders (one query per side for a list)."""
        loaders = info.context.loaders
        if info.context.require_actor().role is Role.EMPLOYER:
            return citizen_contact(await loaders.citizen_by_id.load(self.doc["citizenId"]))
        return await loaders.company_contact_by_cvr.load(self.doc["companyCvr"])

    @strawberry.field(description="The other side's contact details.")
    async def counterpart(self, info: Info) -> MeetingContact:
        return MeetingContact.from_contact(await self._contact(info))

    @strawberry.field(description="The meeting as an iCalendar (.ics) file.")
    async def icalendar(self, info: Info) -> str:
        return ics.icalendar(self.doc, (await self._contact(info)).name)

    @classmethod
    def from_doc(cls, d: MeetingDoc) -> Meeting:
        return cls(
            id=strawberry.ID(d["_id"]),
            status=MeetingStatus(d["status"]),
            title=d["title"],
            company_name=d.get("companyName", ""),
            starts_at=d["startsAt"],
            ends_at=d["endsAt"],
            mode=MeetingMode(d.get("mode", MeetingMode.IN_PERSON)),
            address=d.get("address"),
            video_url=d.get("videoUrl"),
            offer_id=strawberry.ID(d["offerId"]),
            history=[
                MeetingEvent(status=MeetingStatus(h["status"]), at=h["at"], by=h["by"])
                for h in d.get("history", [])
            ],
            doc=d,
        )


@strawberry.type(description="A meeting request or meeting changed.")
class MeetingUpdate:
    kind: UpdateKind
    id: strawberry.ID
    status: str
    updated_at: datetime
