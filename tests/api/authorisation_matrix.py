"""The authorisation matrix: one entry for every field of Query, Mutation and Subscription, saying
how the app calls it (the document from mobile_contract/operations/ and arguments built from the
seeded world), who owns it, and what every other caller gets with the owner's arguments.

The callers: no token, the citizen who owns the data, another citizen sending the first one's
ids, the employer who owns the data, an employer of another company sending the first one's ids,
and a caseworker (a reserved role nothing is open to yet). The other role of an operation (an
employer calling a citizen's operation and the other way round) is among them.

tests/api/test_authorisation_matrix.py drives the table; a schema field without an entry, or an
entry for a field that no longer exists, fails there. Each entry's arguments are in one place
(its ``args``), so a changed input type is one edit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path

from api.auth.actor import Role
from seed.demo import (
    DEMO_CITIZEN_ID,
    DEMO_COMPANY_CVR,
    DEMO_EMPLOYER_ID,
    WAREHOUSE_WORKER,
)
from tests.api.every_feature import CITIZEN_ID, OTHER_CVR, SECRETS, use_every_feature
from tests.conftest import gql, token_for

OPERATIONS = Path(__file__).resolve().parents[2] / "mobile_contract" / "operations"

# --- the callers ---------------------------------------------------------------------------


class Caller(StrEnum):
    ANONYMOUS = "no token"
    CITIZEN = "citizen (owner)"
    OTHER_CITIZEN = "another citizen"
    EMPLOYER = "employer (owner)"
    OTHER_EMPLOYER = "employer of another company"
    CASEWORKER = "caseworker"


OTHER_EMPLOYER_ID = "anden-arbejdsgiver"
CASEWORKER_ID = "sagsbehandler-1"
OTHER_CITIZEN_ID = DEMO_CITIZEN_ID  # has a profile, a CV and a joblog of their own

TOKENS: dict[Caller, str | None] = {
    Caller.ANONYMOUS: None,
    Caller.CITIZEN: token_for(CITIZEN_ID),
    Caller.OTHER_CITIZEN: token_for(OTHER_CITIZEN_ID),
    Caller.EMPLOYER: token_for(DEMO_EMPLOYER_ID, Role.EMPLOYER, DEMO_COMPANY_CVR),
    Caller.OTHER_EMPLOYER: token_for(OTHER_EMPLOYER_ID, Role.EMPLOYER, OTHER_CVR),
    Caller.CASEWORKER: token_for(CASEWORKER_ID, Role.CASEWORKER),
}
ROLE = {
    Caller.CITIZEN: Role.CITIZEN,
    Caller.OTHER_CITIZEN: Role.CITIZEN,
    Caller.EMPLOYER: Role.EMPLOYER,
    Caller.OTHER_EMPLOYER: Role.EMPLOYER,
    Caller.CASEWORKER: Role.CASEWORKER,
}

# --- what an operation is open to, and what a caller gets ----------------------------------


class Access(StrEnum):
    CITIZEN = "citizens"  # IsCitizen
    EMPLOYER = "employers"  # IsEmployer
    EITHER = "citizens and employers"  # IsCitizenOrEmployer
    SIGNED_IN = "any signed-in account"  # IsAuthenticated


OPEN_TO = {
    Access.CITIZEN: {Role.CITIZEN},
    Access.EMPLOYER: {Role.EMPLOYER},
    Access.EITHER: {Role.CITIZEN, Role.EMPLOYER},
    Access.SIGNED_IN: {Role.CITIZEN, Role.EMPLOYER, Role.CASEWORKER},
}
DEFAULT_OWNERS = {
    Access.CITIZEN: (Caller.CITIZEN,),
    Access.EMPLOYER: (Caller.EMPLOYER,),
    Access.EITHER: (Caller.CITIZEN, Caller.EMPLOYER),
    Access.SIGNED_IN: (Caller.CITIZEN,),
}


class Kind(StrEnum):
    OWNER = "owner"  # the owner's call: succeeds, or answers its domain code
    REFUSED = "refused"  # answers the code, no data, nothing written
    OWN = "own"  # acts on the caller's own account only: none of the owners' ids in the answer,
    # none of the owners' documents changed (a domain code of its own is allowed if named)
    PUBLIC = "public"  # the same public answer for any signed-in caller


@dataclass(frozen=True)
class Outcome:
    kind: Kind
    code: str | None = None


def refused(code: str) -> Outcome:
    return Outcome(Kind.REFUSED, code)


def own(code: str | None = None) -> Outcome:
    return Outcome(Kind.OWN, code)


PUBLIC = Outcome(Kind.PUBLIC)
NOT_FOUND = refused("NOT_FOUND")


# --- the seeded world the arguments come from ---------------------------------------------


@dataclass
class World:
    """Ids of the first parties' things, made through the API (``build_world``)."""

    citizen: str = CITIZEN_ID
    cvs: dict[str, str] = field(default_factory=dict)  # primary / short / copy
    joblog: dict[str, str] = field(default_factory=dict)  # manual / applied
    postings: dict[str, str] = field(default_factory=dict)
    offers: dict[str, str] = field(default_factory=dict)
    slots: dict[str, list[str]] = field(default_factory=dict)  # offer name -> slot ids
    requests: dict[str, str] = field(default_factory=dict)
    meetings: dict[str, str] = field(default_factory=dict)
    notification: str = ""  # one of the citizen's unread inbox messages
    device: str = SECRETS["device"]
    installation: str = ""  # the citizen's phone (its Firebase installation ID)
    company_to_block: str = ""  # a real company's CVR the citizen has not blocked
    blocked: str = OTHER_CVR  # blocked by use_every_feature


def _future(days: int, hours: int = 0) -> str:
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    return (start + timedelta(days=days, hours=hours)).isoformat()


def offer_input(title: str, slots: int = 2, day: int = 6) -> dict:
    return {
        "title": title,
        "pitch": "Kom forbi til en kop kaffe og hør om jobbet.",
        "targetOccupationIds": [WAREHOUSE_WORKER],
        "postalCode": "8200",
        "address": "Lagervej 12, 8200 Aarhus N",
        "slots": [{"startsAt": _future(day, 9 + 2 * k)} for k in range(slots)],
    }


async def _ok(client, operation: str, caller: Caller, **variables) -> dict:
    result = await gql(client, document(operation), token=TOKENS[caller], variables=variables)
    assert "errors" not in result, (operation, result)
    return result["data"]


# Offers the setup makes, one per thing the matrix does with them.
MATRIX_OFFERS = ("accept", "meeting", "decline", "past", "swipe", "edit")


async def build_world(client, db, app) -> World:
    """use_every_feature's citizen and company, plus what the matrix needs on top: a pending
    request to accept, one to decline, a coming meeting, a meeting that has taken place, an
    offer to swipe and one to edit, all through the API."""
    every = await use_every_feature(client, db, app)
    w = World()
    for name in MATRIX_OFFERS:
        made = await _ok(client, "CreateOffer", Caller.EMPLOYER,
                         input=offer_input(f"Kaffemøde: matrix {name}"))  # fmt: skip
        w.offers[name] = made["createOffer"]["id"]
        doc = db.offers.find_one({"_id": w.offers[name]})
        w.slots[name] = [s["_id"] for s in doc["slots"]]
    for name in ("accept", "meeting", "decline", "past"):
        made = await _ok(client, "Swipe", Caller.CITIZEN, offerId=w.offers[name], decision="YES")
        w.requests[name] = made["swipe"]["request"]["id"]
    for name in ("meeting", "past"):
        made = await _ok(client, "AcceptMeetingRequest", Caller.EMPLOYER,
                         id=w.requests[name], slotId=w.slots[name][0])  # fmt: skip
        w.meetings[name] = made["acceptMeetingRequest"]["id"]
    past = datetime.now(UTC) - timedelta(hours=3)
    db.meetings.update_one({"_id": w.meetings["past"]},
                           {"$set": {"startsAt": past, "endsAt": past + timedelta(minutes=25)}})  # fmt: skip
    w.meetings["held"] = every["held"]
    cvs = {d["name"]: d["_id"] for d in db.cvs.find({"citizenId": CITIZEN_ID})}
    w.cvs = {"primary": cvs["Mit CV"], "short": cvs["Kort CV"], "copy": cvs["Kopi"]}
    for entry in db.joblog.find({"citizenId": CITIZEN_ID}):
        if entry.get("note") == SECRETS["note"]:
            w.joblog["manual"] = entry["_id"]
        elif entry.get("postingId"):
            w.joblog["applied"] = entry["_id"]
    saved = db.saved_jobs.find_one({"citizenId": CITIZEN_ID})
    feedback = db.job_feedback.find_one({"citizenId": CITIZEN_ID})
    answered = {saved["postingId"], feedback["postingId"]}
    fresh = [
        p["_id"]
        for p in db.postings.find({"status": {"$ne": "CLOSED"}}, sort=[("_id", 1)])
        if p["_id"] not in answered and p.get("companyCvr") != DEMO_COMPANY_CVR
    ]
    w.postings = {
        "saved": saved["postingId"],
        "not_interested": feedback["postingId"],
        "fresh": fresh[0],  # to mark not interested
        "to_save": fresh[1],
        "to_apply": fresh[2],
        "company": every["alerted_posting"],  # the company's own, open
    }
    unread = db.inbox.find_one({"recipientId": CITIZEN_ID, "readAt": None}, sort=[("_id", 1)])
    assert unread, "the citizen has no unread message"
    w.notification = unread["_id"]
    w.installation = db.devices.find_one({"_id": w.device})["installationId"]
    w.company_to_block = next(
        c["_id"] for c in db.companies.find(sort=[("_id", 1)]) if c["_id"] not in
        (DEMO_COMPANY_CVR, OTHER_CVR)
    )  # fmt: skip
    return w


# --- the table ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    field: str  # "Query.myCvs": the root field this entry calls
    operation: str  # mobile_contract/operations/<operation>.graphql
    access: Access
    # What another party (and, for SIGNED_IN operations, every other signed-in caller) gets
    # with the owner's arguments; a dict gives it per caller.
    other: Outcome | dict[Caller, Outcome]
    args: Callable[[World], dict] = lambda w: {}
    # What every caller but the owners sends instead, where it differs (a device registration
    # comes from the caller's own phone).
    other_args: Callable[[World], dict] | None = None
    owners: tuple[Caller, ...] = ()  # who makes the owner call; default from access
    owner_code: str | None = None  # the owner's domain answer, when not plain success
    # The owner's answer shows one of the owners' ids: proof that the leak check of the other
    # callers' answers (OWN) would see one.
    witness: bool = True

    @property
    def root(self) -> str:
        return self.field.split(".", 1)[0]

    @property
    def name(self) -> str:
        return self.field.split(".", 1)[1]

    def arguments(self, world: World, caller: Caller) -> dict:
        if self.other_args and caller not in self.owner_callers():
            return self.other_args(world)
        return self.args(world)

    def owner_callers(self) -> tuple[Caller, ...]:
        return self.owners or DEFAULT_OWNERS[self.access]

    def parties(self) -> tuple[Caller, ...]:
        """Whose data the entry is about: the owner callers, and for an operation open to both
        sides (a meeting), both sides."""
        return tuple(dict.fromkeys((*self.owner_callers(), *DEFAULT_OWNERS[self.access])))

    def expected(self, caller: Caller) -> Outcome | None:
        """What ``caller`` gets; None: not called (an owner of an operation open to both sides
        when the other side makes the owner call)."""
        if caller is Caller.ANONYMOUS:
            return refused("UNAUTHENTICATED")
        if ROLE[caller] not in OPEN_TO[self.access]:
            return refused("FORBIDDEN")
        if caller in self.owner_callers():
            return Outcome(Kind.OWNER, self.owner_code)
        if caller in DEFAULT_OWNERS[self.access] and self.access is Access.EITHER:
            return None
        if isinstance(self.other, dict):
            return self.other[caller]
        return self.other


def document(operation: str) -> str:
    return (OPERATIONS / f"{operation}.graphql").read_text(encoding="utf-8")


def _cv_input(name: str) -> dict:
    return {"name": name, "skills": ["lagerstyring"], "courses": ["Truckcertifikat B"]}


def _application() -> dict:
    return {"appliedOn": (datetime.now(UTC) - timedelta(days=1)).date().isoformat(),
            "form": "EMAIL", "kind": "UNSOLICITED", "companyName": "Matrix Lager ApS",
            "jobTitle": "Lagermedarbejder"}  # fmt: skip


def _posting_input(title: str) -> dict:
    return {"title": title, "occupationId": WAREHOUSE_WORKER, "postalCode": "8200",
            "description": "Vi søger en lagermedarbejder til vores lager i Aarhus N.",
            "deadline": (datetime.now(UTC) + timedelta(days=20)).date().isoformat()}  # fmt: skip


def _company_input(name: str) -> dict:
    return {"name": name, "industry": "Transport og logistik", "street": "Lagervej 12",
            "postalCode": "8200", "size": "50-99"}  # fmt: skip


def _device(w: World, installation: str | None = None) -> dict:
    return {"input": {"token": w.device, "platform": "ANDROID", "appVersion": "2.1.0",
                      "installationId": installation or w.installation}}  # fmt: skip


OTHER_PHONE = "matrixOtherPhone000001"  # another app installation (a Firebase installation ID)


C, E, EITHER, ANY = Access.CITIZEN, Access.EMPLOYER, Access.EITHER, Access.SIGNED_IN
OWN = own()

# In the order the owner calls are made: queries first, then the changes, each on things the
# refused calls were tried on; the erasure last.
ENTRIES: tuple[Entry, ...] = (
    # --- reads -----------------------------------------------------------------------------
    Entry("Query.viewer", "Viewer", ANY, OWN),
    Entry("Query.occupation", "Occupation", ANY, PUBLIC, lambda w: {"id": WAREHOUSE_WORKER}, witness=False),
    Entry("Query.iscoGroup", "IscoGroupOccupations", ANY, PUBLIC, lambda w: {"code": "9333"}, witness=False),
    Entry("Query.iscoGroups", "IscoGroups", ANY, PUBLIC, witness=False),
    Entry("Query.normalizeTitle", "NormalizeTitle", ANY, PUBLIC, lambda w: {"text": "lagerarbejder"}, witness=False),
    Entry("Query.occupations", "OccupationTypeahead", ANY, PUBLIC, lambda w: {"search": "lager"}, witness=False),
    Entry("Query.recommendedJobs", "RecommendedJobs", C, OWN, lambda w: {"first": 5}, witness=False),
    Entry("Query.jobPosting", "JobPostingDetail", ANY, PUBLIC, lambda w: {"id": w.postings["company"]},
          owners=(Caller.EMPLOYER,), witness=False),
    Entry("Query.myProfile", "MyProfile", C, OWN),
    Entry("Query.myCvs", "MyCvs", C, OWN),
    Entry("Query.cv", "Cv", C, NOT_FOUND, lambda w: {"id": w.cvs["primary"]}),
    Entry("Query.consentHistory", "ConsentHistory", C, OWN, witness=False),
    Entry("Query.jobApplications", "JobApplications", C, OWN),
    Entry("Query.savedJobs", "SavedJobs", C, OWN, witness=False),
    Entry("Query.myData", "MyData", C, OWN, witness=False),
    Entry("Query.exportMyData", "ExportMyData", C, OWN),
    Entry("Query.cvViews", "CvViews", C, OWN, witness=False),
    Entry("Query.swipeDeck", "SwipeDeck", C, OWN, lambda w: {"first": 10}, witness=False),
    Entry("Query.myMeetingRequests", "MyMeetingRequests", C, OWN),
    Entry("Query.meetings", "Meetings", EITHER, OWN),
    Entry("Query.meeting", "Meeting", EITHER, NOT_FOUND, lambda w: {"id": w.meetings["meeting"]}),
    Entry("Query.meetingRequests", "MeetingRequests", E, NOT_FOUND, lambda w: {"offerId": w.offers["accept"]}),
    Entry("Query.meetingRequest", "MeetingRequest", EITHER, NOT_FOUND, lambda w: {"id": w.requests["accept"]}),
    # Opening marks the request SEEN and logs a view for the citizen: the owner's call only.
    Entry("Query.meetingRequestCandidate", "MeetingRequestCandidate", E, NOT_FOUND,
          lambda w: {"requestId": w.requests["accept"]}),
    Entry("Query.myOffers", "MyOffers", E, OWN),
    # Any open offer for a citizen (and a caseworker); only the company's own for an employer.
    Entry("Query.coffeeMeetingOffer", "CoffeeMeetingOffer", ANY,
          {Caller.OTHER_CITIZEN: PUBLIC, Caller.OTHER_EMPLOYER: NOT_FOUND, Caller.CASEWORKER: PUBLIC},
          lambda w: {"id": w.offers["accept"]}, owners=(Caller.EMPLOYER, Caller.CITIZEN)),
    Entry("Query.myCompany", "MyCompany", E, OWN),
    Entry("Query.myJobPostings", "MyJobPostings", E, OWN),
    Entry("Query.myDevices", "MyDevices", ANY, OWN),
    Entry("Query.notificationPreferences", "NotificationPreferences", ANY, OWN, witness=False),
    Entry("Query.notifications", "Notifications", ANY, OWN),
    Entry("Query.jobAgent", "JobAgent", C, OWN, witness=False),
    Entry("Query.jobAgentAlerts", "JobAgentAlerts", C, OWN),
    # --- the citizen's changes -------------------------------------------------------------
    Entry("Mutation.markJobNotInterested", "MarkJobNotInterested", C, OWN,
          lambda w: {"postingId": w.postings["fresh"], "reason": "TOO_FAR"}, witness=False),
    Entry("Mutation.undoJobNotInterested", "UndoJobNotInterested", C, own("NOT_FOUND"),
          lambda w: {"postingId": w.postings["not_interested"]}, witness=False),
    Entry("Mutation.updateMyProfile", "UpdateMyProfile", C, OWN,
          lambda w: {"input": {"firstName": "Matrix", "lastName": "Borger", "postalCode": "8200"}}),
    Entry("Mutation.updateMyJobPreferences", "UpdateMyJobPreferences", C, OWN,
          lambda w: {"input": {"occupationIds": [WAREHOUSE_WORKER], "radiusKm": 40}}),
    Entry("Mutation.updateMyPrivacySettings", "UpdateMyPrivacySettings", C, OWN,
          lambda w: {"input": {"employerVisibility": "NAMED"}}),
    Entry("Mutation.createCv", "CreateCv", C, OWN, lambda w: {"input": _cv_input("Matrix CV")}, witness=False),
    Entry("Mutation.updateCv", "UpdateCv", C, NOT_FOUND,
          lambda w: {"id": w.cvs["short"], "input": _cv_input("Kort CV")}),
    Entry("Mutation.duplicateCv", "DuplicateCv", C, NOT_FOUND, lambda w: {"id": w.cvs["short"], "name": "Kopi 2"},
          witness=False),
    Entry("Mutation.setPrimaryCv", "SetPrimaryCv", C, NOT_FOUND, lambda w: {"id": w.cvs["short"]}),
    Entry("Mutation.deleteCv", "DeleteCv", C, NOT_FOUND, lambda w: {"id": w.cvs["copy"]}, witness=False),
    Entry("Mutation.addJobApplication", "AddJobApplication", C, OWN, lambda w: {"input": _application()},
          witness=False),
    Entry("Mutation.updateJobApplication", "UpdateJobApplication", C, NOT_FOUND,
          lambda w: {"id": w.joblog["manual"], "input": {"status": "INTERVIEW"}}),
    Entry("Mutation.deleteJobApplication", "DeleteJobApplication", C, NOT_FOUND,
          lambda w: {"id": w.joblog["applied"]}, witness=False),
    Entry("Mutation.applyToJob", "ApplyToJob", C, OWN, lambda w: {"postingId": w.postings["to_apply"]},
          witness=False),
    Entry("Mutation.saveJob", "SaveJob", C, OWN, lambda w: {"postingId": w.postings["to_save"]}, witness=False),
    Entry("Mutation.unsaveJob", "UnsaveJob", C, own("NOT_FOUND"), lambda w: {"postingId": w.postings["saved"]},
          witness=False),
    Entry("Mutation.swipe", "Swipe", C, OWN, lambda w: {"offerId": w.offers["swipe"], "decision": "NO"},
          witness=False),
    Entry("Mutation.undoLastSwipe", "UndoLastSwipe", C, OWN, witness=False),
    Entry("Mutation.blockCompany", "BlockCompany", C, OWN, lambda w: {"cvr": w.company_to_block}, witness=False),
    Entry("Mutation.unblockCompany", "UnblockCompany", C, OWN, lambda w: {"cvr": w.blocked}, witness=False),
    Entry("Mutation.updateJobAgent", "UpdateJobAgent", C, OWN,
          lambda w: {"input": {"occupationIds": [WAREHOUSE_WORKER], "cadence": "DAILY"}}, witness=False),
    # --- the company's changes -------------------------------------------------------------
    Entry("Mutation.acceptMeetingRequest", "AcceptMeetingRequest", E, NOT_FOUND,
          lambda w: {"id": w.requests["accept"], "slotId": w.slots["accept"][0]}),
    Entry("Mutation.declineMeetingRequest", "DeclineMeetingRequest", E, NOT_FOUND,
          lambda w: {"id": w.requests["decline"], "reason": "OTHER"}),
    # Either side may move or cancel a meeting: the citizen moves it, the company cancels it.
    Entry("Mutation.rescheduleMeeting", "RescheduleMeeting", EITHER, NOT_FOUND,
          lambda w: {"id": w.meetings["meeting"], "slotId": w.slots["meeting"][1]}, owners=(Caller.CITIZEN,)),
    Entry("Mutation.cancelMeeting", "CancelMeeting", EITHER, NOT_FOUND,
          lambda w: {"id": w.meetings["meeting"], "reason": "Syg"}, owners=(Caller.EMPLOYER,)),
    Entry("Mutation.recordMeetingOutcome", "RecordMeetingOutcome", E, NOT_FOUND,
          lambda w: {"id": w.meetings["past"], "outcome": "COMPLETED"}),
    # Before createOffer: the other company makes its profile first, then offers.
    Entry("Mutation.updateMyCompany", "UpdateMyCompany", E, OWN,
          lambda w: {"input": _company_input("Matrix Logistik ApS")}),
    Entry("Mutation.createOffer", "CreateOffer", E, OWN, lambda w: {"input": offer_input("Kaffemøde: ny")},
          witness=False),
    Entry("Mutation.updateOffer", "UpdateOffer", E, NOT_FOUND,
          lambda w: {"id": w.offers["edit"], "input": offer_input("Kaffemøde: rettet", slots=0)}),
    Entry("Mutation.addOfferSlots", "AddOfferSlots", E, NOT_FOUND,
          lambda w: {"id": w.offers["edit"], "slots": [{"startsAt": _future(9, 10)}]}),
    Entry("Mutation.removeOfferSlot", "RemoveOfferSlot", E, NOT_FOUND,
          lambda w: {"id": w.offers["edit"], "slotId": w.slots["edit"][1]}),
    Entry("Mutation.pauseOffer", "PauseOffer", E, NOT_FOUND, lambda w: {"id": w.offers["edit"]}),
    Entry("Mutation.resumeOffer", "ResumeOffer", E, NOT_FOUND, lambda w: {"id": w.offers["edit"]}),
    Entry("Mutation.closeOffer", "CloseOffer", E, NOT_FOUND, lambda w: {"id": w.offers["edit"]}),
    Entry("Mutation.createJobPosting", "CreateJobPosting", E, OWN, lambda w: {"input": _posting_input("Pakker")},
          witness=False),
    Entry("Mutation.updateJobPosting", "UpdateJobPosting", E, NOT_FOUND,
          lambda w: {"id": w.postings["company"], "input": _posting_input("Lagermedarbejder (rettet)")}),
    Entry("Mutation.closeJobPosting", "CloseJobPosting", E, NOT_FOUND, lambda w: {"id": w.postings["company"]}),
    # --- devices and the inbox (any signed-in account, each their own) ----------------------
    # Another account's device token is never moved to the caller from another phone (L1).
    Entry("Mutation.registerDevice", "RegisterDevice", ANY, refused("CONFLICT"), _device,
          other_args=lambda w: _device(w, OTHER_PHONE), witness=False),
    Entry("Mutation.updateNotificationPreferences", "UpdateNotificationPreferences", ANY, OWN,
          lambda w: {"input": {"dailyCap": 5}}, witness=False),
    Entry("Mutation.markNotificationRead", "MarkNotificationRead", ANY, NOT_FOUND,
          lambda w: {"id": w.notification}),
    Entry("Mutation.markAllNotificationsRead", "MarkAllNotificationsRead", ANY, OWN, witness=False),
    Entry("Mutation.unregisterDevice", "UnregisterDevice", ANY, NOT_FOUND, lambda w: {"token": w.device},
          witness=False),
    # --- live updates (over the socket; see test_authorisation_matrix.py) -------------------
    Entry("Subscription.heartbeat", "Heartbeat", ANY, OWN, lambda w: {"intervalSeconds": 5}),
    Entry("Subscription.meetingUpdates", "MeetingUpdates", EITHER, OWN),
    Entry("Subscription.notificationAdded", "NotificationAdded", ANY, OWN),
    # --- last: the erasure (another citizen can only erase their own account) ---------------
    Entry("Mutation.deleteMyAccount", "DeleteMyAccount", C, OWN, witness=False),
)  # fmt: skip
