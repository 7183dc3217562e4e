"""The coffee meetings' shared rules, without a database: allowed moves, the state groups the
repository filters on, distance bands, ownership, when an offer takes requests, and the GraphQL
enums built from the same definitions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from api.auth.actor import Actor, Role
from api.meetings import rules, types
from api.meetings.contacts import Contact, citizen_contact, company_contact
from api.meetings.ownership import owns_request, side_of
from api.meetings.rules import (
    LIVE_MEETING,
    OPEN_REQUEST,
    TRANSITIONS,
    UNANSWERED,
    DistanceBand,
    MeetingOutcome,
    MeetingStatus,
    RequestStatus,
    allowed_from,
    distance_band,
    local_day,
)
from api.offers.rules import free_future_slots, is_open

NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
CITIZEN = Actor("borger-1", Role.CITIZEN)
EMPLOYER = Actor("arbejdsgiver-1", Role.EMPLOYER, "12345674")


# --- allowed moves ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("target", "sources"),
    [
        (MeetingStatus.RESCHEDULED, {"SCHEDULED", "RESCHEDULED"}),
        (MeetingStatus.CANCELLED, {"SCHEDULED", "RESCHEDULED"}),
        (MeetingStatus.COMPLETED, {"SCHEDULED", "RESCHEDULED"}),
        (MeetingStatus.NO_SHOW, {"SCHEDULED", "RESCHEDULED"}),
        (MeetingStatus.SCHEDULED, set()),  # only ever the first state
    ],
)
def test_allowed_from_lists_the_states_a_move_may_start_in(target, sources):
    assert set(allowed_from(target)) == sources
    assert set(allowed_from(target.value)) == sources  # a plain string works the same


def test_ended_meetings_never_move_again():
    for ended in (MeetingStatus.CANCELLED, MeetingStatus.COMPLETED, MeetingStatus.NO_SHOW):
        assert TRANSITIONS[ended] == ()
        assert all(ended not in allowed_from(target) for target in MeetingStatus)
    assert set(TRANSITIONS) == set(MeetingStatus)


def test_state_groups_are_derived_from_the_states():
    assert UNANSWERED == (RequestStatus.PENDING, RequestStatus.SEEN)
    assert OPEN_REQUEST == (RequestStatus.PENDING, RequestStatus.SEEN, RequestStatus.ACCEPTED)
    assert LIVE_MEETING == (MeetingStatus.SCHEDULED, MeetingStatus.RESCHEDULED)
    assert {o.value for o in MeetingOutcome} == {"COMPLETED", "NO_SHOW"}
    assert all(allowed_from(o) == LIVE_MEETING for o in MeetingOutcome)  # once, from live


def test_graphql_enums_are_the_rules_own():
    """One definition per set: the schema's enums are the rules' enums."""
    assert types.MeetingStatus is rules.MeetingStatus
    assert types.MeetingRequestStatus is rules.RequestStatus
    assert types.SwipeDecision is rules.SwipeDecision
    assert types.SwipeReason is rules.SwipeReason
    assert types.DeclineReason is rules.DeclineReason
    assert types.MeetingOutcome is rules.MeetingOutcome
    assert types.DistanceBand is rules.DistanceBand
    assert types.UpdateKind is rules.ChangeKind


def test_illegal_moves_carry_the_current_status():
    error = rules.illegal("CANCELLED", MeetingStatus.RESCHEDULED)
    assert error.extra_extensions == {"status": "CANCELLED"}
    assert error.message("en") == "A meeting with status CANCELLED cannot change to RESCHEDULED."


# --- distance bands ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("km", "band"),
    [
        (0.0, DistanceBand.UNDER_5_KM),
        (4.99, DistanceBand.UNDER_5_KM),
        (5.0, DistanceBand.KM_5_15),
        (14.9, DistanceBand.KM_5_15),
        (15.0, DistanceBand.KM_15_30),
        (30.0, DistanceBand.KM_30_60),
        (59.9, DistanceBand.KM_30_60),
        (60.0, DistanceBand.OVER_60_KM),
        (400.0, DistanceBand.OVER_60_KM),
    ],
)
def test_distance_bands_have_exclusive_upper_limits(km, band):
    assert distance_band(km) is band


# --- ownership -----------------------------------------------------------------------------------
def test_a_request_belongs_to_the_company_it_was_sent_to():
    request = {"_id": "r1", "companyCvr": "12345674", "citizenId": "borger-1"}
    assert owns_request(EMPLOYER, request)
    assert not owns_request(Actor("x", Role.EMPLOYER, "29403473"), request)
    assert not owns_request(CITIZEN, request)  # the citizen's own request is not "owned"
    assert not owns_request(EMPLOYER, None)


def test_each_side_of_a_meeting_is_recognised_and_strangers_are_not():
    meeting = {"_id": "m1", "citizenId": "borger-1", "companyCvr": "12345674"}
    assert side_of(CITIZEN, meeting) == "citizen"
    assert side_of(EMPLOYER, meeting) == "employer"
    assert side_of(Actor("borger-2", Role.CITIZEN), meeting) is None
    assert side_of(Actor("a", Role.EMPLOYER, "29403473"), meeting) is None
    assert side_of(Actor("borger-1", Role.CASEWORKER), meeting) is None
    assert side_of(CITIZEN, None) is None


# --- time and offers ---------------------------------------------------------------------------
def test_the_day_is_the_danish_one():
    assert local_day(datetime(2025, 3, 10, 23, 30, tzinfo=UTC)) == "2025-03-11"
    assert local_day(datetime(2025, 7, 1, 21, 59, tzinfo=UTC)) == "2025-07-01"


def _offer(**changes) -> dict:
    slot = {"_id": "s1", "startsAt": NOW + timedelta(days=1), "capacity": 2, "booked": 0}
    return {"status": "OPEN", "expiresAt": NOW + timedelta(hours=6), "slots": [slot]} | changes


def test_an_offer_takes_requests_while_open_unexpired_and_with_a_free_seat_ahead():
    assert is_open(_offer(), NOW)
    assert not is_open(_offer(status="PAUSED"), NOW)
    assert not is_open(_offer(expiresAt=NOW), NOW)
    full = {"_id": "s1", "startsAt": NOW + timedelta(days=1), "capacity": 2, "booked": 2}
    past = {"_id": "s2", "startsAt": NOW - timedelta(minutes=1), "capacity": 2, "booked": 0}
    assert free_future_slots(_offer(slots=[full, past]), NOW) == []
    assert not is_open(_offer(slots=[full, past]), NOW)


# --- who each side meets ---------------------------------------------------------------------------
def test_contacts_of_each_side():
    citizen = {"firstName": "Mette", "lastName": "Kjær", "email": "m@example.dk", "phone": "1"}
    assert citizen_contact(citizen) == Contact("Mette Kjær", "m@example.dk", "1")
    assert citizen_contact(None) == Contact("", None, None)  # erased meanwhile
    employer = {"firstName": "Ole", "email": "ole@firma.dk"}
    assert company_contact(employer, {"name": "Firma A/S"}) == Contact("Ole", "ole@firma.dk", None)
    assert company_contact(None, {"name": "Firma A/S"}) == Contact("Firma A/S", None, None)
    assert company_contact(None, None) == Contact(None, None, None)
