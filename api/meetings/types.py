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
from .contacts import Contact, citizen_contact, erased_contact, is_anonymised, withheld_contact
from .repository import MeetingDoc, MeetingRequestDoc, SwipeDoc
from .requests import CandidateSummary as SummaryView
from .requests import IncomingRequest

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

    @classmethod
    def from_summary(cls, s: SummaryView) -> Candidate:
        """The deprecated list field: who, as allowed, and the distance band; no CV items and
        no contact details (those are read through meetingRequestCandidate, which is logged)."""
        return cls(
            request_id=strawberry.ID(s.request_id), initial=s.initial, name=s.name, email=None,
            phone=None, experience=[], education=[], skills=[], courses=[], driving_licences=[],
            languages=[], distance_band=s.distance_band,
        )  # fmt: skip


@strawberry.type(
    description=(
        "What a company sees of a candidate in a list or a refetch: who (as the citizen "
        "allows: the initial, the name once accepted or if they chose to show it), their "
        "headline occupation and how far away they live. The full candidate (experience, "
        "education, skills ...) is read only through meetingRequestCandidate, which the citizen "
        "sees in their CV view log. Added in contract 0.2."
    )
)
class CandidateSummary:
    request_id: strawberry.ID
    initial: str = strawberry.field(description='"–" when the citizen deleted their account.')
    name: str | None = strawberry.field(
        description='Null while the candidate is pseudonymous; "Slettet bruger" (Deleted '
        "user) when the citizen deleted their account."
    )
    headline: str | None = strawberry.field(
        description="The occupation the candidate has worked in longest (the ESCO label in the "
        "caller's language, else the CV's job title); null without work history."
    )
    distance_band: DistanceBand | None

    @classmethod
    def from_view(cls, s: SummaryView) -> CandidateSummary:
        return cls(
            request_id=strawberry.ID(s.request_id), initial=s.initial, name=s.name,
            headline=s.headline, distance_band=s.distance_band,
        )  # fmt: skip


async def _offer(info: Info, offer_id: str) -> CoffeeMeetingOffer | None:
    doc = await info.context.loaders.offer_by_id.load(offer_id)
    return CoffeeMeetingOffer.from_doc(doc) if doc else None


@strawberry.type(description="A card in the swipe deck, with why it is shown.")
class SwipeCard:
    offer: CoffeeMeetingOffer
    reason: str
    fit: float = strawberry.field(description="0-1; the deck's order also rotates daily.")
    distance_km: float | None = strawberry.field(description="Null for video meetings.")
    outside_field: bool = strawberry.field(
        default=False,
        description="True when no target occupation is in the same ISCO minor group as a job "
        "the citizen held or wishes for: such cards come after those on the field, and their "
        'reason says "Et nyt felt, du kan prøve". Added in contract 0.2 (issue 14).',
    )


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


@strawberry.interface(
    description=(
        "A meeting request as the caller's side sees it: MeetingRequest for the citizen who "
        "sent it, IncomingMeetingRequest for the company it was sent to. Added in contract 0.2."
    )
)
class MeetingRequestView:
    id: strawberry.ID
    status: MeetingRequestStatus
    created_at: datetime


@strawberry.type(description="The citizen's own meeting request.")
class MeetingRequest(MeetingRequestView):
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


@strawberry.type(
    description="A request to one of the company's offers, with its fit and a summary of the "
    "candidate."
)
class IncomingMeetingRequest(MeetingRequestView):
    fit: float
    summary: CandidateSummary = strawberry.field(description="Added in contract 0.2.")
    candidate: Candidate = strawberry.field(
        deprecation_reason=(
            "Lists carry the summary only: use summary. Read the full candidate with "
            "meetingRequestCandidate (logged for the citizen). Here experience, education, "
            "skills, courses, drivingLicences and languages are always empty, and email and "
            "phone null."
        )
    )

    @classmethod
    def from_incoming(cls, r: IncomingRequest) -> IncomingMeetingRequest:
        return cls(
            id=strawberry.ID(r.request["_id"]),
            status=MeetingRequestStatus(r.request["status"]),
            created_at=r.request["createdAt"],
            fit=r.fit,
            summary=CandidateSummary.from_view(r.summary),
            candidate=Candidate.from_summary(r.summary),
        )


@strawberry.type
class IncomingMeetingRequestEdge:
    cursor: str
    node: IncomingMeetingRequest


@strawberry.type
class IncomingMeetingRequestConnection:
    edges: list[IncomingMeetingRequestEdge]
    page_info: PageInfo


@strawberry.type(
    description="Who you meet; known to both sides once a meeting is confirmed. A company sees "
    "the citizen's name, e-mail and phone while the meeting is on and for a set time after it "
    "(14 days by default); once the meeting is cancelled, or after that time, only the "
    'initial (name "J.", email and phone null, withheld true).'
)
class MeetingContact:
    name: str | None
    email: str | None
    phone: str | None
    withheld: bool = strawberry.field(
        default=False,
        description="True when the contact details are no longer shown (the meeting was "
        "cancelled or is long over); name is then the initial. Added in contract 0.2 "
        "(issue 16).",
    )

    @classmethod
    def from_contact(cls, c: Contact) -> MeetingContact:
        return cls(name=c.name, email=c.email, phone=c.phone, withheld=c.withheld)


@strawberry.type
class MeetingEvent:
    status: MeetingStatus
    at: datetime
    by: str = strawberry.field(description="citizen or employer.")


# The offer's own details a meeting copies when it is booked. Meetings anonymised by an earlier
# erasure kept none of them; they are read from the offer then, so such a meeting still renders.
_FROM_OFFER = ("title", "companyName", "mode", "address", "videoUrl")


async def _details(meeting: Meeting, info: Info) -> dict:
    """The meeting's document, with what it lacks taken from the offer (one batched read for a
    list, and none unless a meeting lacks its details)."""
    doc = meeting.doc
    if all(k in doc for k in _FROM_OFFER[:3]):
        return doc
    offer = await info.context.loaders.offer_by_id.load(doc["offerId"]) or {}
    return {"title": "", **{k: offer[k] for k in _FROM_OFFER if k in offer}, **doc}


async def _title(root: Meeting, info: Info) -> str:
    return (await _details(root, info)).get("title") or ""


async def _company_name(root: Meeting, info: Info) -> str:
    return (await _details(root, info)).get("companyName") or ""


async def _mode(root: Meeting, info: Info) -> MeetingMode:
    return MeetingMode((await _details(root, info)).get("mode") or MeetingMode.IN_PERSON)


async def _address(root: Meeting, info: Info) -> str | None:
    return (await _details(root, info)).get("address")


async def _video_url(root: Meeting, info: Info) -> str | None:
    return (await _details(root, info)).get("videoUrl")


@strawberry.type(description="A confirmed coffee meeting.")
class Meeting:
    id: strawberry.ID
    status: MeetingStatus
    title: str = strawberry.field(resolver=_title)
    company_name: str = strawberry.field(resolver=_company_name)
    starts_at: datetime
    ends_at: datetime
    mode: MeetingMode = strawberry.field(resolver=_mode)
    address: str | None = strawberry.field(resolver=_address)
    video_url: str | None = strawberry.field(resolver=_video_url)
    offer_id: strawberry.ID
    history: list[MeetingEvent]
    doc: strawberry.Private[MeetingDoc]

    async def _contact(self, info: Info) -> Contact:
        """The other side, through the request's loaders (one query per side for a list). A
        citizen who erased their account reads as a deleted user, and nothing is looked up."""
        ctx = info.context
        if ctx.require_actor().role is Role.EMPLOYER:
            if is_anonymised(self.doc):
                return erased_contact(ctx.locale)
            citizen = await ctx.loaders.citizen_by_id.load(self.doc["citizenId"])
            if not citizen:
                return erased_contact(ctx.locale)
            days = ctx.settings.contact_details_days_after_meeting
            if not rules.contact_details_shown(self.doc, rules.now_utc(), days):
                return withheld_contact(citizen)
            return citizen_contact(citizen)
        return await ctx.loaders.company_contact_by_cvr.load(self.doc["companyCvr"])

    @strawberry.field(description="The other side's contact details.")
    async def counterpart(self, info: Info) -> MeetingContact:
        return MeetingContact.from_contact(await self._contact(info))

    @strawberry.field(description="The meeting as an iCalendar (.ics) file.")
    async def icalendar(self, info: Info) -> str:
        details = await _details(self, info)
        return ics.icalendar({"title": "", **details}, (await self._contact(info)).name)

    @classmethod
    def from_doc(cls, d: MeetingDoc) -> Meeting:
        return cls(
            id=strawberry.ID(d["_id"]),
            status=MeetingStatus(d["status"]),
            starts_at=d["startsAt"],
            ends_at=d["endsAt"],
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
    offer_id: strawberry.ID = strawberry.field(
        description="The offer the request or meeting belongs to (refetch a request with "
        "meetingRequest(id), a meeting with meeting(id)). Added in contract 0.2."
    )
