"""The candidate as a company sees them (``candidate_view``), without a database: pseudonymous
until accepted unless the citizen chose NAMED, contact details only after acceptance, months of
experience per title without former employers, and a distance band instead of a distance."""

from __future__ import annotations

from datetime import UTC, datetime

from api.meetings.candidate import CandidateView, candidate_view, experience
from api.meetings.rules import DistanceBand, RequestStatus
from api.meetings.types import Candidate

NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
AARHUS = {"type": "Point", "coordinates": [10.2039, 56.1629]}
# About 9 km west of Aarhus centre.
BRABRAND_WEST = {"type": "Point", "coordinates": [10.0573, 56.1580]}

CITIZEN = {
    "_id": "borger-1",
    "firstName": "jonas",
    "lastName": "Holm",
    "email": "jonas@example.dk",
    "phone": "+45 11 22 33 44",
    "location": BRABRAND_WEST,
    "consents": {"employerVisibility": "PSEUDONYMOUS"},
}
CV = {
    "workHistory": [
        {
            "title": "Lagermedarbejder",
            "employer": "Lager A/S",
            "start": "2020-01",
            "end": "2020-12",
        },
        {"title": "Chauffør", "employer": "Kørsel ApS", "start": "2021-01", "end": "2021-03"},
        {"title": "Lagermedarbejder", "employer": "Pak ApS", "start": "2024-01"},
        {"title": "Praktikant", "employer": "Skolen"},
    ],
    "education": [{"title": "EUD Lager og logistik"}],
    "skills": ["truckcertifikat"],
    "courses": ["Førstehjælp"],
    "drivingLicences": ["B"],
    "languages": [{"language": "dansk", "level": "modersmål"}],
}
OFFER = {"_id": "tilbud-1", "location": AARHUS}


def _request(status: str) -> dict:
    return {"_id": "anmodning-1", "status": status, "citizenId": "borger-1", "offerId": "tilbud-1"}


def test_before_acceptance_the_candidate_is_pseudonymous():
    view = candidate_view(_request("PENDING"), CITIZEN, CV, OFFER, NOW)
    assert isinstance(view, CandidateView)
    assert (view.initial, view.name, view.email, view.phone) == ("J.", None, None, None)
    assert view.status is RequestStatus.PENDING
    assert view.distance_band is DistanceBand.KM_5_15
    assert view.skills == ["truckcertifikat"] and view.driving_licences == ["B"]
    assert view.languages == [("dansk", "modersmål")]
    assert view.education == ["EUD Lager og logistik"]


def test_a_named_citizen_shows_the_name_but_not_the_contact_details():
    named = CITIZEN | {"consents": {"employerVisibility": "NAMED"}}
    view = candidate_view(_request("SEEN"), named, CV, OFFER, NOW)
    assert (view.name, view.email, view.phone) == ("jonas Holm", None, None)


def test_acceptance_reveals_name_and_contact_details():
    view = candidate_view(_request("ACCEPTED"), CITIZEN, CV, OFFER, NOW, contact_shown=True)
    assert view.name == "jonas Holm"
    assert (view.email, view.phone) == ("jonas@example.dk", "+45 11 22 33 44")


def test_after_a_cancelled_or_long_past_meeting_the_candidate_is_pseudonymous_again():
    # shows_contact is False then (rules.contact_details_shown), even for a NAMED citizen.
    named = CITIZEN | {"consents": {"employerVisibility": "NAMED"}}
    for person in (CITIZEN, named):
        view = candidate_view(_request("ACCEPTED"), person, CV, OFFER, NOW, contact_shown=False)
        assert (view.initial, view.name, view.email, view.phone) == ("J.", None, None, None)


def test_the_initial_is_always_a_letter():
    odd = CITIZEN | {"firstName": "\u202e1jonas"}  # stored before names were checked
    view = candidate_view(_request("PENDING"), odd, CV, OFFER, NOW)
    assert view.initial == "J."


def test_experience_adds_months_per_title_longest_first_and_names_no_employer():
    # 12 + 15 months (Jan 2024 to Mar 2025, still there) as warehouse worker, 3 as driver, and
    # a job without dates counts nothing.
    assert experience(CV, NOW) == [("Lagermedarbejder", 27), ("Chauffør", 3), ("Praktikant", 0)]
    view = candidate_view(_request("ACCEPTED"), CITIZEN, CV, OFFER, NOW, contact_shown=True)
    assert "Lager A/S" not in repr(view) and "Pak ApS" not in repr(view)


def test_without_both_places_there_is_no_distance_band():
    assert candidate_view(_request("PENDING"), CITIZEN, CV, {}, NOW).distance_band is None
    nowhere = {k: v for k, v in CITIZEN.items() if k != "location"}
    assert candidate_view(_request("PENDING"), nowhere, CV, OFFER, NOW).distance_band is None


def test_an_empty_cv_gives_empty_lists():
    view = candidate_view(_request("PENDING"), CITIZEN, {}, OFFER, NOW)
    assert view.experience == view.education == view.skills == view.languages == []


def test_the_graphql_candidate_reads_the_view():
    view = candidate_view(_request("ACCEPTED"), CITIZEN, CV, OFFER, NOW, contact_shown=True)
    candidate = Candidate.from_view(view)
    assert candidate.request_id == "anmodning-1"
    assert [(e.title, e.months) for e in candidate.experience] == view.experience
    assert candidate.languages[0].language == "dansk"
    assert candidate.languages[0].level.value == "modersmål"
    assert candidate.driving_licences[0].value == "B"
    assert candidate.distance_band is DistanceBand.KM_5_15
