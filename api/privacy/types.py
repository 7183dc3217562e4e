from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry
from strawberry.types import Info

from api.pagination import PageInfo


@strawberry.type(description="One kind of data held about the citizen, and why.")
class DataSection:
    purpose: str = strawberry.field(
        description="Stable key: profile, cvs, profiling, consents, jobAnswers, joblog, "
        "savedJobs, cvViews, meetingRequests, notifications (more may be added)."
    )
    title: str
    why: str
    records: int


@strawberry.type(description="Mine data: everything held about the citizen, by purpose.")
class MyData:
    sections: list[DataSection]
    export_format: str = strawberry.field(
        description="Name of the export format (see exportMyData)."
    )


@strawberry.enum(description="Why a company opened the citizen's profile.")
class CvViewReason(Enum):
    MEETING_REQUEST = "MEETING_REQUEST"


@strawberry.type(description="A company looked at the citizen's profile (Hvem har set mit CV).")
class CvView:
    company_name: str
    company_cvr: str
    viewed_at: datetime
    reason: CvViewReason
    offer_title: str | None

    @strawberry.field(description="The reason in words, in the caller's language.")
    def reason_text(self, info: Info) -> str:
        offer = f": {self.offer_title}" if self.offer_title else ""
        if info.context.locale == "en":
            return f"Opened your coffee-meeting request{offer}"
        return f"Åbnede din anmodning om kaffemøde{offer}"

    @classmethod
    def from_doc(cls, d: dict) -> CvView:
        return cls(
            company_name=d["companyName"],
            company_cvr=d["companyCvr"],
            viewed_at=d["viewedAt"],
            reason=CvViewReason(d["reason"]),
            offer_title=d.get("offerTitle"),
        )


@strawberry.type
class CvViewEdge:
    cursor: str
    node: CvView


@strawberry.type
class CvViewConnection:
    edges: list[CvViewEdge]
    page_info: PageInfo


@strawberry.type(description="Receipt for an erased account.")
class AccountDeletion:
    deleted_at: datetime
    withdrawn_meeting_requests: int
    records_erased: int
