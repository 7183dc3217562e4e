"""Where one side's action meets the other's: a citizen's YES reaches the employer live, the
employer's accept reaches the citizen (meeting, inbox, live event), a reschedule and a cancel
reach the other side, and a citizen who erases their account leaves screens that still render
for the company. Over HTTP and graphql-transport-ws, as the two apps do it."""

from __future__ import annotations

from datetime import timedelta

from .actors import (
    DEMO_COMPANY_CVR,
    DEMO_EMPLOYER_ID,
    DEMO_OFFER_IDS,
    WAREHOUSE_WORKER,
    Checks,
    Employer,
    new_employer,
    publish_offer,
    short_id,
    sign_up_citizen,
)
from .actors import slot as new_slot
from .ops import Api
from .server import RunningServer
from .sweep import Ids, sweep


async def test_yes_accept_reschedule_cancel_across_both_apps(api: Api, e2e_server: RunningServer):
    checks = Checks()
    employer = await new_employer(api, e2e_server)
    offer = await publish_offer(
        api,
        employer,
        "Kaffemøde: Lager i Aarhus",
        [new_slot(timedelta(days=2)), new_slot(timedelta(days=3)), new_slot(timedelta(days=4))],
    )
    slots = sorted(offer["slots"], key=lambda s: s["startsAt"])
    citizen = await sign_up_citizen(api, e2e_server, name="Emil")

    # The employer's app is open on the requests screen: the YES arrives live.
    async with api.subscribe("MeetingUpdates", employer.token) as company_live:
        deck = (await api.run("SwipeDeck", citizen.token, {"first": 50})).ok()["swipeDeck"]
        card = next(c for c in deck if c["offer"]["id"] == offer["id"])
        assert card["reason"]
        swiped = await api.run("Swipe", citizen.token, {"offerId": offer["id"], "decision": "YES"})
        request_id = swiped.ok()["swipe"]["request"]["id"]
        event = await company_live.wait_for(
            lambda d: d["meetingUpdates"]["id"] == request_id, timeout_s=15
        )
    update = event["meetingUpdates"]
    assert update["kind"] == "REQUEST" and update["status"] == "PENDING"
    checks.check(
        update.get("offerId") == offer["id"],
        f"a MeetingUpdate says which offer it belongs to (item 10); got {update}",
    )
    # The app refetches the request from the event, without opening it.
    refetched = (await api.run("MeetingRequest", employer.token, {"id": request_id})).ok()
    assert refetched["meetingRequest"]["status"] == "PENDING"
    listed = await api.run("MeetingRequests", employer.token, {"offerId": offer["id"]})
    assert [e["node"]["id"] for e in listed.ok()["meetingRequests"]["edges"]] == [request_id]
    company_inbox = (await api.run("Notifications", employer.token)).ok()["notifications"]
    checks.check(
        any(request_id in (n["node"]["route"] or "") for n in company_inbox["edges"]),
        "an employer who signed up in the app (token, then updateMyCompany) hears of a new "
        f"request in the inbox; got {company_inbox['edges']}",
    )

    # The citizen's app is open: the accept arrives as a live update and an inbox message.
    async with (
        api.subscribe("MeetingUpdates", citizen.token) as citizen_live,
        api.subscribe("NotificationAdded", citizen.token) as citizen_inbox,
    ):
        accepted = await api.run(
            "AcceptMeetingRequest", employer.token, {"id": request_id, "slotId": slots[0]["id"]}
        )
        meeting = accepted.ok()["acceptMeetingRequest"]
        meeting_id = meeting["id"]
        assert meeting["counterpart"]["email"], "the company sees the contact details now"
        live = await citizen_live.wait_for(
            lambda d: (
                d["meetingUpdates"]["kind"] == "MEETING" and d["meetingUpdates"]["id"] == meeting_id
            ),
            timeout_s=15,
        )
        assert live["meetingUpdates"]["status"] == "SCHEDULED"
        message = await citizen_inbox.wait_for(
            lambda d: meeting_id in (d["notificationAdded"]["route"] or ""), timeout_s=15
        )
        assert message["notificationAdded"]["category"] == "MEETINGS"
    mine = (await api.run("Meetings", citizen.token)).ok()["meetings"]
    assert [m["id"] for m in mine] == [meeting_id]
    seen_by_citizen = (await api.run("Meeting", citizen.token, {"id": meeting_id})).ok()["meeting"]
    assert seen_by_citizen["companyName"] == employer.company
    assert seen_by_citizen["counterpart"]["name"] and seen_by_citizen["address"]
    requests = (await api.run("MyMeetingRequests", citizen.token)).ok()["myMeetingRequests"]
    assert [r["status"] for r in requests] == ["ACCEPTED"]
    inbox = (await api.run("Notifications", citizen.token)).ok()["notifications"]
    assert inbox["unreadCount"] >= 1

    # The citizen moves it; the company sees the new time live and in its screens.
    async with api.subscribe("MeetingUpdates", employer.token) as company_live:
        moved = await api.run(
            "RescheduleMeeting", citizen.token, {"id": meeting_id, "slotId": slots[2]["id"]}
        )
        assert moved.ok()["rescheduleMeeting"]["status"] == "RESCHEDULED"
        await company_live.wait_for(
            lambda d: (
                d["meetingUpdates"]["id"] == meeting_id
                and d["meetingUpdates"]["status"] == "RESCHEDULED"
            ),
            timeout_s=15,
        )
    theirs = (await api.run("Meeting", employer.token, {"id": meeting_id})).ok()["meeting"]
    assert theirs["startsAt"] == moved.data["rescheduleMeeting"]["startsAt"]
    assert [h["status"] for h in theirs["history"]] == ["SCHEDULED", "RESCHEDULED"]
    company_inbox = (await api.run("Notifications", employer.token)).ok()["notifications"]
    checks.check(
        any(meeting_id in (n["node"]["route"] or "") for n in company_inbox["edges"]),
        f"the company hears that the citizen moved the meeting; got {company_inbox['edges']}",
    )

    # The company cancels; the citizen's screens show it and every screen still opens.
    async with api.subscribe("MeetingUpdates", citizen.token) as citizen_live:
        cancelled = await api.run(
            "CancelMeeting", employer.token, {"id": meeting_id, "reason": "Lageret er lukket"}
        )
        assert cancelled.ok()["cancelMeeting"]["status"] == "CANCELLED"
        await citizen_live.wait_for(
            lambda d: (
                d["meetingUpdates"]["id"] == meeting_id
                and d["meetingUpdates"]["status"] == "CANCELLED"
            ),
            timeout_s=15,
        )
    gone = await api.run("Meetings", citizen.token, {"status": ["CANCELLED"]})
    assert [m["id"] for m in gone.ok()["meetings"]] == [meeting_id]
    inbox = (await api.run("Notifications", citizen.token)).ok()["notifications"]["edges"]
    assert sum(meeting_id in (n["node"]["route"] or "") for n in inbox) >= 2
    caseworker = e2e_server.token("caseworker", f"e2e-sagsbehandler-{short_id()}")
    accounts = [
        ("citizen", citizen.token),
        ("employer", employer.token),
        ("caseworker", caseworker),
    ]
    ids = Ids(
        offers=[offer["id"]],
        requests=[request_id],
        meetings=[meeting_id],
        cvs=[citizen.cv_id or ""],
        occupations=[WAREHOUSE_WORKER],
    )
    await checks.sweep(sweep(api, accounts, ids, after="a meeting was cancelled"))
    checks.done()


async def test_citizen_erasure_leaves_the_company_screens_working(
    api: Api, e2e_server: RunningServer
):
    """Defect 1 of issue 14: after deleteMyAccount the company's meetings, meeting(id) and the
    push's deep link answered INTERNAL_SERVER_ERROR. Anonymised records must still render."""
    checks = Checks()
    # The demo company: its employer user exists, so it is told of the cancellation (a push
    # and an inbox message deep-linking to the meeting).
    employer = Employer(
        DEMO_EMPLOYER_ID,
        DEMO_COMPANY_CVR,
        e2e_server.token("employer", DEMO_EMPLOYER_ID, cvr=DEMO_COMPANY_CVR),
        "Østjysk Lager & Logistik ApS",
    )
    demo = await api.run("CoffeeMeetingOffer", employer.token, {"id": DEMO_OFFER_IDS[0]})
    offer = demo.ok()["coffeeMeetingOffer"]
    slots = sorted(offer["slots"], key=lambda s: s["startsAt"])
    leaving = await sign_up_citizen(api, e2e_server, name="Frida")
    waiting = await sign_up_citizen(api, e2e_server, name="Gustav")
    met = await api.run("Swipe", leaving.token, {"offerId": offer["id"], "decision": "YES"})
    met_request = met.ok()["swipe"]["request"]["id"]
    meeting = await api.run(
        "AcceptMeetingRequest", employer.token, {"id": met_request, "slotId": slots[0]["id"]}
    )
    meeting_id = meeting.ok()["acceptMeetingRequest"]["id"]
    other = await api.run("CoffeeMeetingOffer", employer.token, {"id": DEMO_OFFER_IDS[1]})
    other_offer = other.ok()["coffeeMeetingOffer"]
    pending = await api.run(
        "Swipe", leaving.token, {"offerId": other_offer["id"], "decision": "YES"}
    )
    pending_request = pending.ok()["swipe"]["request"]["id"]
    kept = await api.run("Swipe", waiting.token, {"offerId": offer["id"], "decision": "YES"})
    kept_request = kept.ok()["swipe"]["request"]["id"]

    async with api.subscribe("MeetingUpdates", employer.token) as company_live:
        erased = (await api.run("DeleteMyAccount", leaving.token)).ok()["deleteMyAccount"]
        assert erased["withdrawnMeetingRequests"] >= 1
        await company_live.wait_for(
            lambda d: (
                d["meetingUpdates"]["id"] == meeting_id
                and d["meetingUpdates"]["status"] == "CANCELLED"
            ),
            timeout_s=15,
        )

    for variables in ({}, {"status": ["CANCELLED"]}):
        listed = await api.run("Meetings", employer.token, variables)
        checks.check(
            not listed.errors and meeting_id in {m["id"] for m in listed.data["meetings"]},
            f"the company's meetings {variables or '(no filter)'} still render after the "
            f"citizen's erasure (item 1); got {listed.errors or listed.data}",
        )
    opened = await api.run("Meeting", employer.token, {"id": meeting_id})
    checks.check(
        not opened.errors and opened.data["meeting"]["status"] == "CANCELLED",
        f"meeting(id) renders the anonymised meeting (item 1); got {opened.errors or opened.data}",
    )
    if not opened.errors:
        counterpart = opened.data["meeting"]["counterpart"]
        checks.check(
            counterpart["email"] is None and counterpart["phone"] is None,
            f"no contact details of an erased citizen remain: {counterpart}",
        )
    # The "Kaffemøde aflyst" notice deep-links to the meeting: that screen must open.
    inbox = (await api.run("Notifications", employer.token)).ok()["notifications"]["edges"]
    routes = [n["node"]["route"] for n in inbox if meeting_id in (n["node"]["route"] or "")]
    checks.check(routes, f"the company is told the meeting was cancelled: {inbox}")
    for route in routes:
        deep_link = await api.run("Meeting", employer.token, {"id": route.rsplit("/", 1)[-1]})
        checks.check(
            not deep_link.errors,
            f"the cancellation notice's deep link {route} opens (item 1): {deep_link.errors}",
        )
    withdrawn = await api.run(
        "MeetingRequests",
        employer.token,
        {"offerId": other_offer["id"], "status": ["WITHDRAWN"]},
    )
    checks.check(
        not withdrawn.errors
        and [e["node"]["id"] for e in withdrawn.data["meetingRequests"]["edges"]]
        == [pending_request],
        f"the withdrawn request still lists (item 1): {withdrawn.errors or withdrawn.data}",
    )
    still = await api.run("MeetingRequest", employer.token, {"id": kept_request})
    assert still.ok()["meetingRequest"]["status"] == "PENDING", "other citizens are untouched"
    viewer = await api.run("Viewer", leaving.token)
    checks.check(
        viewer.code == "UNAUTHENTICATED",
        f"the erased account's token no longer signs in (item 3); got {viewer.data}",
    )

    caseworker = e2e_server.token("caseworker", f"e2e-sagsbehandler-{short_id()}")
    accounts = [
        ("employer", employer.token),
        ("erased citizen", leaving.token),
        ("other citizen", waiting.token),
        ("caseworker", caseworker),
    ]
    ids = Ids(
        offers=[offer["id"], other_offer["id"]],
        requests=[met_request, pending_request, kept_request],
        meetings=[meeting_id],
        cvs=[leaving.cv_id or "", waiting.cv_id or ""],
        occupations=[WAREHOUSE_WORKER],
    )
    await checks.sweep(
        sweep(api, accounts, ids, after="a citizen with a meeting erased their account")
    )
    checks.done()


async def test_heartbeat_on_the_authenticated_socket(api: Api, e2e_server: RunningServer):
    citizen = await sign_up_citizen(api, e2e_server, name="Hanne", cv=False)
    async with api.subscribe("Heartbeat", citizen.token, {"intervalSeconds": 5}) as beats:
        tick = await beats.wait_for(lambda d: bool(d["heartbeat"]["at"]), timeout_s=12)
    assert tick["heartbeat"]["viewerId"] == citizen.id
