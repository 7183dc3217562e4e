"""An employer's work in the app: the company profile, coffee-meeting offers and their slots,
job postings, the requests that come in, meetings (accept, decline, reschedule, cancel,
outcome), through the operations in mobile_contract/operations/ against the running server.
After each thing that ends (a cancelled meeting, a closed posting, a closed offer) every screen
of every role is opened again."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from .actors import (
    CARGO_DRIVER,
    WAREHOUSE_WORKER,
    Checks,
    company_input,
    new_cvr,
    offer_input,
    posting_input,
    short_id,
    sign_up_citizen,
    slot,
    swipe_yes,
)
from .ops import Api
from .server import RunningServer
from .sweep import Ids, sweep

CV_CONTENT = ("experience", "education", "skills", "courses", "languages", "drivingLicences")


def _cv_content_in(node: dict) -> list[str]:
    """CV fields with content anywhere in a list row (a list carries a summary only)."""
    found = []
    for value in node.values():
        if isinstance(value, dict):
            found += [k for k in CV_CONTENT if value.get(k)]
    return found


async def test_employer_journey_offers_postings_requests_and_meetings(
    api: Api, e2e_server: RunningServer
):
    checks = Checks()
    cvr = new_cvr()
    token = e2e_server.token("employer", f"e2e-arbejdsgiver-{short_id()}", cvr=cvr)

    # --- the company ------------------------------------------------------------------------
    viewer = (await api.run("Viewer", token)).ok()["viewer"]
    assert viewer["role"] == "EMPLOYER"
    assert (await api.run("MyCompany", token)).ok()["myCompany"] is None
    name = f"E2E Logistik {cvr} A/S"
    company = (await api.run("UpdateMyCompany", token, {"input": company_input(name)})).ok()
    assert company["updateMyCompany"]["cvr"] == cvr
    assert company["updateMyCompany"]["town"] == "Aarhus C"
    changed = {**company_input(name), "size": "50-99", "street": "Lagervej 9"}
    (await api.run("UpdateMyCompany", token, {"input": changed})).ok()
    mine = (await api.run("MyCompany", token)).ok()["myCompany"]
    assert mine["size"] == "50-99" and mine["street"] == "Lagervej 9"
    assert (await api.run("Viewer", token)).ok()["viewer"]["company"]["cvr"] == cvr

    # --- an offer: create, update, slots, pause, resume -----------------------------------------
    slots = [slot(timedelta(days=2), capacity=2), slot(timedelta(days=3)), slot(timedelta(days=5))]
    created = await api.run(
        "CreateOffer", token, {"input": offer_input("Kaffemøde: Lager og truck", slots)}
    )
    offer = created.ok()["createOffer"]
    offer_id = offer["id"]
    assert offer["status"] == "OPEN" and len(offer["slots"]) == 3
    assert offer["companyCvr"] == cvr and offer["companyName"] == name
    new_text = offer_input("Kaffemøde: Lager, truck og pakkeri", slots)
    updated = (await api.run("UpdateOffer", token, {"id": offer_id, "input": new_text})).ok()
    assert updated["updateOffer"]["title"] == "Kaffemøde: Lager, truck og pakkeri"
    added = await api.run(
        "AddOfferSlots", token, {"id": offer_id, "slots": [slot(timedelta(days=6))]}
    )
    added_slots = added.ok()["addOfferSlots"]["slots"]
    assert len(added_slots) == 4
    known = {s["id"] for s in offer["slots"]}
    extra = next(s["id"] for s in added_slots if s["id"] not in known)
    removed = await api.run("RemoveOfferSlot", token, {"id": offer_id, "slotId": extra})
    assert extra not in {s["id"] for s in removed.ok()["removeOfferSlot"]["slots"]}
    slot_ids = [s["id"] for s in sorted(offer["slots"], key=lambda s: s["startsAt"])]

    citizen = await sign_up_citizen(api, e2e_server, name="Ali")
    paused = (await api.run("PauseOffer", token, {"id": offer_id})).ok()["pauseOffer"]
    assert paused["status"] == "PAUSED"
    deck = (await api.run("SwipeDeck", citizen.token, {"first": 50})).ok()["swipeDeck"]
    assert offer_id not in {c["offer"]["id"] for c in deck}, "a paused offer leaves decks"
    hidden = await api.run("CoffeeMeetingOffer", citizen.token, {"id": offer_id})
    assert hidden.code == "NOT_FOUND"
    assert (await api.run("ResumeOffer", token, {"id": offer_id})).ok()["resumeOffer"][
        "status"
    ] == "OPEN"
    deck = (await api.run("SwipeDeck", citizen.token, {"first": 50})).ok()["swipeDeck"]
    assert offer_id in {c["offer"]["id"] for c in deck}
    seen = (await api.run("CoffeeMeetingOffer", citizen.token, {"id": offer_id})).ok()
    assert seen["coffeeMeetingOffer"]["title"] == "Kaffemøde: Lager, truck og pakkeri"
    offers = (await api.run("MyOffers", token)).ok()["myOffers"]
    assert [o["id"] for o in offers] == [offer_id]
    own = (await api.run("CoffeeMeetingOffer", token, {"id": offer_id})).ok()
    assert own["coffeeMeetingOffer"]["status"] == "OPEN"

    # --- postings: create, update, list, detail ---------------------------------------------
    posting = await api.run(
        "CreateJobPosting", token, {"input": posting_input("Lagermedarbejder til dagholdet")}
    )
    posting = posting.ok()["createJobPosting"]
    posting_id = posting["id"]
    assert posting["status"] == "OPEN" and posting["occupation"]["id"] == WAREHOUSE_WORKER
    # The employer chose the occupation; a new title (without occupationId) keeps it (item 8).
    retitled = posting_input("Chauffør og lagerhjælper, dagholdet", occupation=None)
    edited = await api.run("UpdateJobPosting", token, {"id": posting_id, "input": retitled})
    edited_posting = edited.ok()["updateJobPosting"]
    assert edited_posting["title"] == "Chauffør og lagerhjælper, dagholdet"
    checks.check(
        edited_posting["occupation"]["id"] == WAREHOUSE_WORKER,
        "editing a posting's title does not change the occupation the employer chose "
        f"(item 8); it became {edited_posting['occupation']}",
    )
    unknown = await api.run(
        "CreateJobPosting", token, {"input": posting_input("Xyzzy qwerty", occupation=None)}
    )
    fields = [
        f.get("field")
        for e in unknown.errors
        for f in (e.get("extensions") or {}).get("fields", [])
    ]
    checks.check(
        unknown.code == "BAD_USER_INPUT" and "occupationId" in fields,
        "a title that is not recognised answers BAD_USER_INPUT on occupationId (item 8); got "
        f"{unknown.data or unknown.errors}",
    )
    driver = await api.run(
        "CreateJobPosting", token, {"input": posting_input("Lastbilchauffør", CARGO_DRIVER)}
    )
    driver_id = driver.ok()["createJobPosting"]["id"]
    listed = (await api.run("MyJobPostings", token)).ok()["myJobPostings"]
    assert {p["id"] for p in listed} >= {posting_id, driver_id}
    detail = (await api.run("JobPostingDetail", token, {"id": posting_id})).ok()["jobPosting"]
    assert detail["contractType"] == "PERMANENT"
    checks.check(
        detail.get("status") == "OPEN",
        f"JobPostingDetail selects status (item 8); got {sorted(detail)}",
    )

    # --- requests come in: list (a summary, no CV view), the candidate (a logged view) --------
    second = await sign_up_citizen(api, e2e_server, name="Bente")
    third = await sign_up_citizen(api, e2e_server, name="Carl")
    first_request = await swipe_yes(api, citizen, offer_id)
    second_request = await swipe_yes(api, second, offer_id)
    requests = await api.run("MeetingRequests", token, {"offerId": offer_id})
    edges = requests.ok()["meetingRequests"]["edges"]
    assert {e["node"]["id"] for e in edges} == {first_request, second_request}
    for edge in edges:
        assert 0 <= edge["node"]["fit"] <= 1 and edge["node"]["status"] == "PENDING"
        checks.check(
            not _cv_content_in(edge["node"]),
            "the meetingRequests list carries a summary only, no CV content (item 4); got "
            f"{_cv_content_in(edge['node'])} in {edge['node']}",
        )
    for who in (citizen, second):
        views = (await api.run("CvViews", who.token)).ok()["cvViews"]["edges"]
        checks.check(views == [], f"listing requests writes no CV view (item 4); got {views}")
        statuses = [
            r["status"]
            for r in (await api.run("MyMeetingRequests", who.token)).ok()["myMeetingRequests"]
        ]
        checks.check(statuses == ["PENDING"], f"listing does not mark SEEN (item 4): {statuses}")
    refetched = (await api.run("MeetingRequest", token, {"id": first_request})).ok()
    assert refetched["meetingRequest"]["status"] == "PENDING", "refetching is side-effect free"
    own_view = (await api.run("MeetingRequest", citizen.token, {"id": first_request})).ok()
    assert own_view["meetingRequest"]["offer"]["id"] == offer_id

    candidate = await api.run("MeetingRequestCandidate", token, {"requestId": first_request})
    person = candidate.ok()["meetingRequestCandidate"]
    assert person["initial"] and person["email"] is None and person["phone"] is None
    assert person["experience"] and person["skills"], "the full candidate, in the logged read"
    views = (await api.run("CvViews", citizen.token)).ok()["cvViews"]["edges"]
    assert [v["node"]["companyCvr"] for v in views] == [cvr]
    mine = (await api.run("MyMeetingRequests", citizen.token)).ok()["myMeetingRequests"]
    assert mine[0]["status"] == "SEEN" and mine[0]["seenAt"]
    undo = await api.run("UndoLastSwipe", citizen.token)
    assert undo.code == "CONFLICT", "a seen YES cannot be taken back"

    # --- accept, decline, meetings, reschedule -----------------------------------------------
    accepted = await api.run(
        "AcceptMeetingRequest", token, {"id": first_request, "slotId": slot_ids[0]}
    )
    meeting = accepted.ok()["acceptMeetingRequest"]
    meeting_id = meeting["id"]
    assert meeting["status"] == "SCHEDULED" and meeting["offerId"] == offer_id
    assert meeting["counterpart"]["email"] == "sofie.andersen@example.dk", (
        "contact details once accepted"
    )
    declined = await api.run(
        "DeclineMeetingRequest", token, {"id": second_request, "reason": "POSITION_FILLED"}
    )
    assert declined.ok()["declineMeetingRequest"]["status"] == "DECLINED"
    meetings = (await api.run("Meetings", token)).ok()["meetings"]
    assert meeting_id in {m["id"] for m in meetings}
    one = (await api.run("Meeting", token, {"id": meeting_id})).ok()["meeting"]
    assert "BEGIN:VCALENDAR" in one["icalendar"] and one["history"][0]["status"] == "SCHEDULED"
    moved = await api.run("RescheduleMeeting", token, {"id": meeting_id, "slotId": slot_ids[1]})
    moved = moved.ok()["rescheduleMeeting"]
    assert moved["status"] == "RESCHEDULED"
    new_slot = next(s for s in offer["slots"] if s["id"] == slot_ids[1])
    assert _same_time(moved["startsAt"], new_slot["startsAt"])
    citizen_view = (await api.run("Meeting", citizen.token, {"id": meeting_id})).ok()["meeting"]
    assert citizen_view["status"] == "RESCHEDULED" and citizen_view["counterpart"]["name"]
    offer_now = (await api.run("CoffeeMeetingOffer", token, {"id": offer_id})).ok()
    booked = {s["id"]: s["booked"] for s in offer_now["coffeeMeetingOffer"]["slots"]}
    assert booked[slot_ids[0]] == 0 and booked[slot_ids[1]] == 1, booked

    # --- an outcome needs a started meeting: a slot a few seconds ahead ----------------------
    soon = await api.run(
        "AddOfferSlots",
        token,
        {"id": offer_id, "slots": [slot(timedelta(seconds=12), minutes=10)]},
    )
    soon_slot = min(soon.ok()["addOfferSlots"]["slots"], key=lambda s: s["startsAt"])
    third_request = await swipe_yes(api, third, offer_id)
    held = await api.run(
        "AcceptMeetingRequest", token, {"id": third_request, "slotId": soon_slot["id"]}
    )
    held_id = held.ok()["acceptMeetingRequest"]["id"]
    early = await api.run("RecordMeetingOutcome", token, {"id": held_id, "outcome": "COMPLETED"})
    assert early.code == "CONFLICT", "no outcome before the start"

    caseworker = ("caseworker", e2e_server.token("caseworker", f"e2e-sagsbehandler-{short_id()}"))
    company = ("employer", token)
    ids = Ids(
        postings=[posting_id, driver_id],
        offers=[offer_id],
        requests=[first_request, second_request, third_request],
        meetings=[meeting_id, held_id],
        cvs=[c.cv_id for c in (citizen, second, third) if c.cv_id],
        occupations=[WAREHOUSE_WORKER],
    )

    # --- endings: cancel the meeting, close the posting, close the offer ------------------------
    cancelled = await api.run(
        "CancelMeeting", token, {"id": meeting_id, "reason": "Driftslederen er syg"}
    )
    assert cancelled.ok()["cancelMeeting"]["status"] == "CANCELLED"
    inbox = (await api.run("Notifications", citizen.token)).ok()["notifications"]["edges"]
    assert any(meeting_id in (n["node"]["route"] or "") for n in inbox), inbox
    accounts = [company, ("citizen whose meeting was cancelled", citizen.token), caseworker]
    await checks.sweep(sweep(api, accounts, ids, after="an employer cancelled a meeting"))

    # Meanwhile the short meeting has started (housekeeping ran several times in between).
    await _sleep_until(soon_slot["startsAt"])
    outcome = await api.run("RecordMeetingOutcome", token, {"id": held_id, "outcome": "COMPLETED"})
    assert outcome.ok()["recordMeetingOutcome"]["status"] == "COMPLETED"
    log = (await api.run("JobApplications", third.token)).ok()["jobApplications"]["edges"]
    assert [e["node"]["source"] for e in log] == ["MEETING"], "a held meeting enters the joblog"
    inbox = (await api.run("Notifications", third.token)).ok()["notifications"]["edges"]
    false_reminders = [n["node"]["title"] for n in inbox if "om en time" in n["node"]["title"]]
    checks.check(
        not false_reminders,
        "no 'Kaffemøde om en time' for a meeting booked 12 seconds ahead (item 7); got "
        f"{false_reminders}",
    )

    closed = (await api.run("CloseJobPosting", token, {"id": posting_id})).ok()
    assert closed["closeJobPosting"]["status"] == "CLOSED"
    suggested = await api.run("RecommendedJobs", citizen.token, {"first": 50})
    assert posting_id not in {
        e["node"]["posting"]["id"] for e in suggested.ok()["recommendedJobs"]["edges"]
    }
    accounts = [company, ("citizen it was suggested to", citizen.token), caseworker]
    await checks.sweep(sweep(api, accounts, ids, after="an employer closed a job posting"))

    fourth = await sign_up_citizen(api, e2e_server, name="Dorte")
    pending = await swipe_yes(api, fourth, offer_id)
    ids.requests.append(pending)
    shut = (await api.run("CloseOffer", token, {"id": offer_id})).ok()["closeOffer"]
    assert shut["status"] == "CLOSED"
    mine = (await api.run("MyMeetingRequests", fourth.token)).ok()["myMeetingRequests"]
    assert [r["status"] for r in mine] != ["PENDING"], "unanswered requests close with the offer"
    notices = (await api.run("Notifications", fourth.token)).ok()["notifications"]["edges"]
    assert notices, "the citizen gets a kind notice when the offer closes"
    accounts = [
        company,
        ("citizen with a pending request", fourth.token),
        ("declined citizen", second.token),
        ("citizen who met", third.token),
        caseworker,
    ]
    await checks.sweep(sweep(api, accounts, ids, after="an employer closed an offer"))
    checks.done()


def _same_time(a: str, b: str) -> bool:
    return datetime.fromisoformat(a) == datetime.fromisoformat(b)


async def _sleep_until(iso: str) -> None:
    wait = (datetime.fromisoformat(iso) - datetime.now(UTC)).total_seconds()
    await asyncio.sleep(max(0.0, wait) + 0.5)
