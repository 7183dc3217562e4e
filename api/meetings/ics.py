"""The meeting as an iCalendar (RFC 5545) event for the phone's calendar. A pure function of
the meeting and the contact's name: each reschedule raises the sequence, so calendars replace
the entry instead of adding one."""

from __future__ import annotations

from datetime import UTC, datetime

from api.offers.rules import MeetingMode

from .repository import MeetingDoc
from .rules import MeetingStatus


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _stamp(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def icalendar(meeting: MeetingDoc, contact_name: str | None) -> str:
    if meeting.get("mode") == MeetingMode.VIDEO:
        where = meeting.get("videoUrl")
    else:
        where = meeting.get("address")
    cancelled = meeting["status"] == MeetingStatus.CANCELLED
    sequence = sum(
        1 for h in meeting.get("history", []) if h["status"] == MeetingStatus.RESCHEDULED
    )
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Jobunivers//Kaffemøde//DA",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:{meeting['_id']}@jobunivers",
        f"DTSTAMP:{_stamp(meeting['updatedAt'])}",
        f"DTSTART:{_stamp(meeting['startsAt'])}",
        f"DTEND:{_stamp(meeting['endsAt'])}",
        f"SEQUENCE:{sequence}",
        f"STATUS:{'CANCELLED' if cancelled else 'CONFIRMED'}",
        f"SUMMARY:{_escape(meeting['title'] + ' – ' + meeting.get('companyName', ''))}",
    ]
    if where:
        lines.append(f"LOCATION:{_escape(where)}")
    if contact_name:
        lines.append(f"DESCRIPTION:{_escape('Kontakt: ' + contact_name)}")
    lines += ["END:VEVENT", "END:VCALENDAR"]
    return "\r\n".join(lines) + "\r\n"
