"""Periodic work: unanswered requests expire with a kind notice; reminders go out once, the day
before and an hour before, only while their text is true (with a fixed clock), to each citizen
and once per slot to the company."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from seed.demo import DEMO_CANDIDATE_IDS, DEMO_COMPANY_CVR, DEMO_EMPLOYER_ID, DEMO_OFFER_IDS
from tests.api.meetings.helpers import a_request, run_housekeeping


async def test_unanswered_requests_expire_with_a_kind_notice(client, world_db, app, settings):
    request = a_request(world_db)
    old = datetime.now(UTC) - timedelta(days=15)
    world_db.meeting_requests.update_one({"_id": request["_id"]}, {"$set": {"createdAt": old}})
    figures = await run_housekeeping(world_db, app, settings)
    assert figures["requests_expired"] == 1
    assert world_db.meeting_requests.find_one({"_id": request["_id"]})["status"] == "EXPIRED"
    notice = world_db.inbox.find_one({"recipientId": request["citizenId"]})
    assert (
        notice["title"] == "Din anmodning er udløbet"
        and "siger ikke noget om dig" in notice["body"]
    )
    assert (await run_housekeeping(world_db, app, settings))["requests_expired"] == 0  # once


# A fixed clock: Monday 10 March 2031, 10:00 in Copenhagen.
NOW = datetime(2031, 3, 10, 9, 0, tzinfo=UTC)


def a_citizen(world_db, cid: str, first: str, last: str, visibility: str = "PSEUDONYMOUS") -> str:
    template = world_db.citizens.find_one({"_id": DEMO_CANDIDATE_IDS[1]})
    consents = template.get("consents", {}) | {"employerVisibility": visibility}
    world_db.citizens.insert_one(
        template | {"_id": cid, "firstName": first, "lastName": last, "consents": consents}
    )
    return cid


def a_meeting_at(
    world_db,
    mid: str,
    citizen_id: str,
    starts: datetime,
    slot: str = "s-fast",
    status: str = "SCHEDULED",
    created: datetime = NOW - timedelta(days=3),
) -> str:
    world_db.meetings.insert_one({
        "_id": mid, "requestId": f"anmodning-{mid}", "offerId": DEMO_OFFER_IDS[0],
        "companyCvr": DEMO_COMPANY_CVR, "companyName": "Lager A/S", "citizenId": citizen_id,
        "title": "Kaffe på lageret", "mode": "IN_PERSON", "address": "Lagervej 12",
        "videoUrl": None, "slotId": slot, "startsAt": starts,
        "endsAt": starts + timedelta(minutes=25), "status": status,
        "history": [{"status": "SCHEDULED", "at": created, "by": "employer"}],
        "createdAt": created, "updatedAt": created,
    })  # fmt: skip
    return mid


def reminders(world_db, recipient: str) -> list[dict]:
    query = {"recipientId": recipient, "key": {"$regex": "^reminder-"}}
    return list(world_db.inbox.find(query).sort("createdAt", 1))


async def test_reminders_go_to_both_sides_once(client, world_db, app, settings):
    """The day before (the meeting is tomorrow, at most 24 h ahead) and an hour before."""
    cid = a_citizen(world_db, "påmindet", "Jonas", "Holm")
    a_meeting_at(world_db, "m-i-morgen", cid, NOW + timedelta(hours=20))  # Tuesday 06:00
    assert (await run_housekeeping(world_db, app, settings, NOW))["reminders_sent"] == 1
    assert (await run_housekeeping(world_db, app, settings, NOW))["reminders_sent"] == 0
    [citizen_notice] = reminders(world_db, cid)
    assert citizen_notice["title"] == "Kaffemøde i morgen"
    assert citizen_notice["category"] == "REMINDERS"
    assert [n["title"] for n in reminders(world_db, DEMO_EMPLOYER_ID)] == ["Kaffemøde i morgen"]
    # An hour before, the second reminder.
    later = NOW + timedelta(hours=19)
    assert (await run_housekeeping(world_db, app, settings, later))["reminders_sent"] == 1
    assert [n["title"] for n in reminders(world_db, cid)] == [
        "Kaffemøde i morgen", "Kaffemøde om en time",
    ]  # fmt: skip
    assert reminders(world_db, DEMO_EMPLOYER_ID)[-1]["title"] == "Kaffemøde om en time"
    assert (await run_housekeeping(world_db, app, settings, later))["reminders_sent"] == 0


async def test_the_hour_reminder_goes_only_while_the_meeting_is_about_an_hour_ahead(
    client, world_db, app, settings
):
    """ "Om en time" three minutes before is wrong: closer than 45 minutes (housekeeping missed
    the window, or the meeting was booked late) the reminder is skipped, not sent late."""
    ahead = {"3-min": timedelta(minutes=3), "30-min": timedelta(minutes=30),
             "50-min": timedelta(minutes=50), "2-timer": timedelta(hours=2)}  # fmt: skip
    for name, lead in ahead.items():
        a_meeting_at(world_db, f"m-{name}", a_citizen(world_db, f"b-{name}", "Anna", "Berg"),
                     NOW + lead, slot=f"s-{name}")  # fmt: skip
    assert (await run_housekeeping(world_db, app, settings, NOW))["reminders_sent"] == 1
    assert [n["title"] for n in reminders(world_db, "b-50-min")] == ["Kaffemøde om en time"]
    for name in ("3-min", "30-min", "2-timer"):
        assert reminders(world_db, f"b-{name}") == [], name
    # Twelve o'clock today is not "i morgen" either; at 11:10 it is 50 minutes ahead.
    at_11_10 = NOW + timedelta(minutes=70)
    assert (await run_housekeeping(world_db, app, settings, at_11_10))["reminders_sent"] == 1
    assert [n["title"] for n in reminders(world_db, "b-2-timer")] == ["Kaffemøde om en time"]
    assert reminders(world_db, "b-3-min") == reminders(world_db, "b-30-min") == []


async def test_the_day_before_reminder_says_tomorrow_only_when_it_is(
    client, world_db, app, settings
):
    today = a_citizen(world_db, "i-dag", "Ida", "Dam")
    a_meeting_at(world_db, "m-i-aften", today, NOW + timedelta(hours=10), slot="s-aften")
    tomorrow = a_citizen(world_db, "i-morgen", "Bo", "Bak")
    a_meeting_at(world_db, "m-tirsdag", tomorrow, NOW + timedelta(hours=23), slot="s-tirsdag")
    far = a_citizen(world_db, "om-to-dage", "Eva", "Eng")
    a_meeting_at(world_db, "m-onsdag", far, NOW + timedelta(hours=25), slot="s-onsdag")
    assert (await run_housekeeping(world_db, app, settings, NOW))["reminders_sent"] == 1
    assert [n["title"] for n in reminders(world_db, tomorrow)] == ["Kaffemøde i morgen"]
    assert reminders(world_db, today) == reminders(world_db, far) == []


async def test_the_company_gets_one_reminder_per_slot_listing_its_candidates(
    client, world_db, app, settings
):
    """Twelve meetings in one slot were twelve identical, nameless reminders to each employer
    user. Now: one per slot with the candidates, by initial unless the citizen chose to be
    shown by name; each citizen still gets their own."""
    people = [("Jonas", "Holm", "PSEUDONYMOUS"), ("Mette", "Kjær", "NAMED"),
              ("anna", "Berg", "PSEUDONYMOUS")]  # fmt: skip
    starts = NOW + timedelta(minutes=55)
    for i, (first, last, visibility) in enumerate(people):
        cid = a_citizen(world_db, f"slot-{i}", first, last, visibility)
        a_meeting_at(world_db, f"m-slot-{i}", cid, starts, created=NOW - timedelta(days=3 - i))
    cancelled = a_citizen(world_db, "aflyst", "Carl", "Dahl", "NAMED")
    a_meeting_at(world_db, "m-aflyst", cancelled, starts, status="CANCELLED")
    other_slot = a_citizen(world_db, "anden-tid", "Ole", "Lund")
    a_meeting_at(world_db, "m-anden-tid", other_slot, starts + timedelta(minutes=5), slot="s-2")

    assert (await run_housekeeping(world_db, app, settings, NOW))["reminders_sent"] == 4
    for cid in ("slot-0", "slot-1", "slot-2", "anden-tid"):
        assert [n["title"] for n in reminders(world_db, cid)] == ["Kaffemøde om en time"]
    assert reminders(world_db, cancelled) == []
    employers = [e["_id"] for e in world_db.employers.find({"cvr": DEMO_COMPANY_CVR})]
    assert DEMO_EMPLOYER_ID in employers
    for employer in employers:
        got = reminders(world_db, employer)
        assert len(got) == 2, got  # one per slot, not one per meeting
        slot, other = sorted(got, key=lambda n: len(n["body"]), reverse=True)
        assert slot["title"] == "Kaffemøde om en time"
        assert slot["body"] == (
            "Kaffemødet Kaffe på lageret begynder mandag 10. marts kl. 10:55 (Lagervej 12) med "
            "3 kandidater: J., Mette Kjær og A."
        )
        assert "A.." not in slot["body"]
        assert "Holm" not in slot["body"] and "Carl" not in slot["body"]
        assert other["body"].endswith("med 1 kandidat: O.")
        assert slot["route"] == "/meetings/m-slot-0"
    assert (await run_housekeeping(world_db, app, settings, NOW))["reminders_sent"] == 0
    assert len(reminders(world_db, DEMO_EMPLOYER_ID)) == 2


def test_the_candidate_list_reads_as_a_sentence_in_both_languages():
    from api.meetings.notices import candidate_label, candidates_text

    two = candidates_text(["J.", "Mette Kjær"])
    assert two("da") == "2 kandidater: J. og Mette Kjær."
    assert two("en") == "2 candidates: J. and Mette Kjær."
    assert candidates_text(["J."])("en") == "1 candidate: J."
    assert candidates_text(["A.", "B.", "C."])("da") == "3 kandidater: A., B. og C."
    named = {"firstName": "mette", "lastName": "Kjær", "consents": {"employerVisibility": "NAMED"}}
    assert candidate_label(named) == "mette Kjær"
    assert candidate_label(named | {"consents": {}}) == "M."
    assert candidate_label(None) == "–"
