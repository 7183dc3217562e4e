"""The citizen's name, e-mail and phone on every employer screen that shows them (the meeting,
the company's meetings, the meeting request by id and in its list, the opened candidate, the
calendar file): shown while the meeting is on and for ``contact_details_days_after_meeting``
days after it ended, then only the initial; never once the meeting is cancelled (issue 16, L6).
The citizen keeps seeing the company's contact."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from jobunivers.contract import OPERATIONS_DIR
from seed.demo import DEMO_OFFER_IDS
from tests.api.meetings.helpers import EMPLOYER, a_meeting
from tests.conftest import gql, token_for


def operation(name: str) -> str:
    return (OPERATIONS_DIR / f"{name}.graphql").read_text(encoding="utf-8")


async def employer_screens(client, meeting_id: str, request_id: str) -> dict:
    """What the employer app reads about the citizen behind one meeting, screen by screen."""
    one = await gql(client, operation("Meeting"), token=EMPLOYER, variables={"id": meeting_id})
    listed = await gql(client, operation("Meetings"), token=EMPLOYER)
    request = await gql(client, operation("MeetingRequest"), token=EMPLOYER,
                        variables={"id": request_id})  # fmt: skip
    requests = await gql(client, operation("MeetingRequests"), token=EMPLOYER,
                         variables={"offerId": DEMO_OFFER_IDS[0], "first": 50})  # fmt: skip
    candidate = await gql(client, operation("MeetingRequestCandidate"), token=EMPLOYER,
                          variables={"requestId": request_id})  # fmt: skip
    for result in (one, listed, request, requests, candidate):
        assert "errors" not in result, result
    in_list = next(m for m in listed["data"]["meetings"] if m["id"] == meeting_id)
    edge = next(
        e for e in requests["data"]["meetingRequests"]["edges"] if e["node"]["id"] == request_id
    )
    return {
        "meeting": one["data"]["meeting"]["counterpart"],
        "meetings": in_list["counterpart"],
        "icalendar": one["data"]["meeting"]["icalendar"],
        "meetingRequest": request["data"]["meetingRequest"]["summary"],
        "meetingRequests": edge["node"]["summary"],
        "candidate": candidate["data"]["meetingRequestCandidate"],
    }


def citizen_of(world_db, request: dict) -> dict:
    return world_db.citizens.find_one({"_id": request["citizenId"]})


def assert_shown(screens: dict, citizen: dict) -> None:
    full = f"{citizen['firstName']} {citizen['lastName']}"
    for name in ("meeting", "meetings"):
        contact = screens[name]
        assert contact == {"name": full, "email": citizen["email"], "phone": citizen["phone"],
                           "withheld": False}, name  # fmt: skip
    assert full in screens["icalendar"]
    assert screens["meetingRequest"]["name"] == screens["meetingRequests"]["name"] == full
    candidate = screens["candidate"]
    assert (candidate["name"], candidate["email"], candidate["phone"]) == (
        full, citizen["email"], citizen["phone"])  # fmt: skip


def assert_hidden(screens: dict, citizen: dict) -> None:
    initial = citizen["firstName"][0].upper() + "."
    for name in ("meeting", "meetings"):
        assert screens[name] == {"name": initial, "email": None, "phone": None,
                                 "withheld": True}, name  # fmt: skip
    for part in (citizen["firstName"], citizen["lastName"], citizen["email"]):
        assert part not in screens["icalendar"]
    for name in ("meetingRequest", "meetingRequests"):
        assert screens[name]["name"] is None and screens[name]["initial"] == initial, name
    candidate = screens["candidate"]
    assert (candidate["initial"], candidate["name"], candidate["email"], candidate["phone"]) == (
        initial, None, None, None)  # fmt: skip
    assert candidate["experience"]  # the CV still reads: only who the person is goes


@pytest.mark.parametrize("by", ["citizen", "employer"])
async def test_a_cancelled_meeting_hides_name_email_and_phone_on_every_employer_screen(
    client, world_db, by
):
    meeting, request = await a_meeting(client, world_db)
    citizen = citizen_of(world_db, request)
    assert citizen["email"] and citizen["phone"]
    assert_shown(await employer_screens(client, meeting["id"], request["_id"]), citizen)

    token = token_for(request["citizenId"]) if by == "citizen" else EMPLOYER
    cancel = await gql(
        client,
        """mutation($id: ID!) { cancelMeeting(id: $id) { status
          counterpart { name email phone withheld } } }""",
        token=token,
        variables={"id": meeting["id"]},
    )
    assert "errors" not in cancel, cancel
    answer = cancel["data"]["cancelMeeting"]
    assert answer["status"] == "CANCELLED"
    if by == "employer":  # the answer to the cancelling employer hides them already
        assert answer["counterpart"]["withheld"] is True
        assert answer["counterpart"]["email"] is None
    assert_hidden(await employer_screens(client, meeting["id"], request["_id"]), citizen)

    # The citizen still sees whom they were to meet at the company.
    mine = await gql(client, operation("Meeting"), token=token_for(request["citizenId"]),
                     variables={"id": meeting["id"]})  # fmt: skip
    company = mine["data"]["meeting"]["counterpart"]
    assert company["name"] and company["withheld"] is False


async def test_contact_details_stay_for_the_set_days_after_the_meeting_then_go(
    client, world_db, settings
):
    meeting, request = await a_meeting(client, world_db)
    citizen = citizen_of(world_db, request)
    days = settings.contact_details_days_after_meeting
    assert days == 14  # the shipped default, as documented

    def ended(ago: timedelta, status: str) -> None:
        end = datetime.now(UTC) - ago
        world_db.meetings.update_one(
            {"_id": meeting["id"]},
            {"$set": {"status": status, "startsAt": end - timedelta(minutes=25), "endsAt": end}},
        )

    ended(timedelta(days=days) - timedelta(hours=1), "COMPLETED")  # still within the window
    assert_shown(await employer_screens(client, meeting["id"], request["_id"]), citizen)
    ended(timedelta(days=days) + timedelta(hours=1), "COMPLETED")
    assert_hidden(await employer_screens(client, meeting["id"], request["_id"]), citizen)
    # A meeting nobody recorded an outcome for is over all the same.
    ended(timedelta(days=days + 1), "SCHEDULED")
    assert_hidden(await employer_screens(client, meeting["id"], request["_id"]), citizen)
