"""The meeting as an iCalendar event (``api.meetings.ics``), without a database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from api.meetings.ics import icalendar

START = datetime(2025, 3, 12, 9, 30, tzinfo=UTC)


def _meeting(**changes) -> dict:
    return {
        "_id": "møde-1",
        "title": "Kaffemøde: Lager, nat",
        "companyName": "Østjysk Logistik A/S",
        "mode": "IN_PERSON",
        "address": "Lagervej 12; 8200 Aarhus N",
        "videoUrl": None,
        "startsAt": START,
        "endsAt": START + timedelta(minutes=25),
        "updatedAt": datetime(2025, 3, 1, 8, 0, tzinfo=UTC),
        "status": "SCHEDULED",
        "history": [{"status": "SCHEDULED", "at": START, "by": "employer"}],
    } | changes


def _fields(ics: str) -> dict[str, str]:
    assert ics.endswith("\r\n") and "\n" not in ics.replace("\r\n", "")
    return dict(line.split(":", 1) for line in ics.split("\r\n") if line)


def test_a_scheduled_meeting_is_a_confirmed_event_in_utc():
    ics = icalendar(_meeting(), "Mette Kjær")
    assert ics.startswith("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n")
    fields = _fields(ics)
    assert fields["UID"] == "møde-1@jobunivers"
    assert fields["DTSTART"] == "20250312T093000Z"
    assert fields["DTEND"] == "20250312T095500Z"
    assert fields["DTSTAMP"] == "20250301T080000Z"
    assert fields["SEQUENCE"] == "0"
    assert fields["STATUS"] == "CONFIRMED"
    assert fields["DESCRIPTION"] == "Kontakt: Mette Kjær"


def test_text_is_escaped():
    fields = _fields(icalendar(_meeting(), "A, B"))
    assert fields["SUMMARY"] == "Kaffemøde: Lager\\, nat – Østjysk Logistik A/S"
    assert fields["LOCATION"] == "Lagervej 12\\; 8200 Aarhus N"
    assert fields["DESCRIPTION"] == "Kontakt: A\\, B"


def test_each_reschedule_raises_the_sequence_and_cancelling_cancels():
    history = [
        {"status": "SCHEDULED", "at": START, "by": "employer"},
        {"status": "RESCHEDULED", "at": START, "by": "citizen"},
        {"status": "RESCHEDULED", "at": START, "by": "employer"},
        {"status": "CANCELLED", "at": START, "by": "citizen"},
    ]
    fields = _fields(icalendar(_meeting(status="CANCELLED", history=history), None))
    assert (fields["SEQUENCE"], fields["STATUS"]) == ("2", "CANCELLED")
    assert "DESCRIPTION" not in fields


def test_a_video_meeting_is_at_its_link():
    video = _meeting(mode="VIDEO", address=None, videoUrl="https://meet.example.dk/abc")
    assert _fields(icalendar(video, None))["LOCATION"] == "https://meet.example.dk/abc"
    assert "LOCATION" not in _fields(icalendar(_meeting(address=None), None))
