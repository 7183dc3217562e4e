"""A citizen's whole life in the app, from the first sign-in to erasing the account, through
the operations in mobile_contract/operations/ against the running server."""

from __future__ import annotations

import asyncio
import json
from datetime import date

import jsonschema

from .actors import (
    CV,
    FORKLIFT_OPERATOR,
    ORDER_PICKER,
    WAREHOUSE_WORKER,
    Checks,
    new_employer,
    posting_input,
    publish_offer,
    short_id,
)
from .ops import CONTRACT, Api
from .server import RunningServer
from .sweep import Ids, sweep

EXPORT_SCHEMA = json.loads((CONTRACT / "my-data.schema.json").read_text(encoding="utf-8"))


async def test_citizen_journey_from_sign_up_to_erasure(api: Api, e2e_server: RunningServer):
    checks = Checks()
    citizen_id = f"e2e-borger-{short_id()}"
    token = e2e_server.token("citizen", citizen_id)
    employer = await new_employer(api, e2e_server)
    offer_a = await publish_offer(api, employer, "Kaffemøde: Lager om natten")
    offer_b = await publish_offer(api, employer, "Kaffemøde: Pakkeri")

    # --- sign up ------------------------------------------------------------------------------
    viewer = (await api.run("Viewer", token)).ok()["viewer"]
    assert viewer["id"] == citizen_id and viewer["role"] == "CITIZEN"
    assert viewer["displayName"] is None
    assert (await api.run("MyProfile", token)).ok()["myProfile"] is None
    profile_input = {
        "firstName": "Mads",
        "lastName": "Kristensen",
        "email": "mads.kristensen@example.dk",
        "phone": "+45 30 40 50 60",
        "postalCode": "8000",
        "locale": "da",
    }
    saved = (await api.run("UpdateMyProfile", token, {"input": profile_input})).ok()
    assert saved["updateMyProfile"]["town"] == "Aarhus C"
    profile = (await api.run("MyProfile", token)).ok()["myProfile"]
    assert profile["firstName"] == "Mads" and profile["privacy"]["profiling"] is True
    assert (await api.run("Viewer", token)).ok()["viewer"]["displayName"]

    # --- CV: the occupation typeahead, then create, change, copy, primary, delete -------------
    typeahead = (await api.run("OccupationTypeahead", token, {"search": "truckfører"})).ok()
    assert typeahead["occupations"], "the typeahead finds forklift work"
    matches = (await api.run("NormalizeTitle", token, {"text": "lagermedarbejder"})).ok()
    assert matches["normalizeTitle"] and matches["normalizeTitle"][0]["occupation"]["id"]
    occupation = (await api.run("Occupation", token, {"id": WAREHOUSE_WORKER})).ok()
    assert occupation["occupation"]["iscoGroup"]["code"] == "9333"
    groups = (await api.run("IscoGroups", token)).ok()["iscoGroups"]
    assert len(groups) >= 5
    group = (await api.run("IscoGroupOccupations", token, {"code": "9333"})).ok()["iscoGroup"]
    assert any(e["node"]["id"] == WAREHOUSE_WORKER for e in group["occupations"]["edges"])

    created = (await api.run("CreateCv", token, {"input": CV, "primary": True})).ok()["createCv"]
    cv_id = created["id"]
    opened = (await api.run("Cv", token, {"id": cv_id})).ok()["cv"]
    assert opened["id"] == cv_id and opened["skills"] == CV["skills"]
    assert created["primary"]
    held = {w["occupation"]["id"] for w in created["workHistory"] if w["occupation"]}
    assert held == {WAREHOUSE_WORKER, FORKLIFT_OPERATOR}
    changed_cv = {
        **CV,
        "skills": [*CV["skills"], "optælling"],
        "workHistory": [
            *CV["workHistory"],
            {
                "title": "Ordreplukker",
                "occupationId": ORDER_PICKER,
                "employer": "Viby Distributionscenter A/S",
                "start": "2016-05",
                "end": "2019-01",
            },
        ],
    }
    updated = (await api.run("UpdateCv", token, {"id": cv_id, "input": changed_cv})).ok()
    assert "optælling" in updated["updateCv"]["skills"]
    copy = (await api.run("DuplicateCv", token, {"id": cv_id, "name": "Chauffør-CV"})).ok()
    copy_id = copy["duplicateCv"]["id"]
    assert (await api.run("SetPrimaryCv", token, {"id": copy_id})).ok()["setPrimaryCv"]["primary"]
    cvs = (await api.run("MyCvs", token)).ok()["myCvs"]
    assert [c["id"] for c in cvs][:1] == [copy_id] and len(cvs) == 2
    assert (await api.run("DeleteCv", token, {"id": copy_id})).ok()["deleteCv"] is True
    cvs = (await api.run("MyCvs", token)).ok()["myCvs"]
    assert [c["id"] for c in cvs] == [cv_id] and cvs[0]["primary"]

    # --- job wishes and privacy -------------------------------------------------------------
    wishes = {
        "occupationIds": [WAREHOUSE_WORKER, FORKLIFT_OPERATOR],
        "radiusKm": 40,
        "hours": "FULL_TIME",
        "contractTypes": ["PERMANENT", "TEMPORARY"],
    }
    prefs = (await api.run("UpdateMyJobPreferences", token, {"input": wishes})).ok()
    chosen = {o["id"] for o in prefs["updateMyJobPreferences"]["preferences"]["occupations"]}
    assert chosen == {WAREHOUSE_WORKER, FORKLIFT_OPERATOR}
    privacy = {
        "employerVisibility": "PSEUDONYMOUS",
        "pushCategories": [{"category": "NEWS", "enabled": False}],
    }
    (await api.run("UpdateMyPrivacySettings", token, {"input": privacy})).ok()

    # --- suggestions, job detail, save/unsave, not interested, apply --------------------------
    suggestions = (await api.run("RecommendedJobs", token, {"first": 20})).ok()["recommendedJobs"]
    assert suggestions["profiling"] is True
    edges = suggestions["edges"]
    assert len(edges) >= 3, "the seeded postings give suggestions around Aarhus"
    for edge in edges:
        assert edge["node"]["explanation"]["summary"], edge
    first, second = edges[0]["node"]["posting"]["id"], edges[1]["node"]["posting"]["id"]
    detail = (await api.run("JobPostingDetail", token, {"id": first})).ok()["jobPosting"]
    assert detail["id"] == first and detail["description"]

    assert (await api.run("SaveJob", token, {"postingId": first})).ok()["saveJob"]["savedAt"]
    saved_jobs = (await api.run("SavedJobs", token)).ok()["savedJobs"]["edges"]
    assert [e["node"]["posting"]["id"] for e in saved_jobs] == [first]
    checks.check(
        all(e["node"].get("postingId") == first for e in saved_jobs),
        "SavedJobs selects postingId, so a saved job whose posting is gone can be unsaved "
        f"(issue item 10); got {saved_jobs[0]['node']}",
    )
    assert (await api.run("UnsaveJob", token, {"postingId": first})).ok()["unsaveJob"] is True
    assert (await api.run("SavedJobs", token)).ok()["savedJobs"]["edges"] == []

    feedback = {"postingId": second, "reason": "TOO_FAR"}
    (await api.run("MarkJobNotInterested", token, feedback)).ok()
    after = (await api.run("RecommendedJobs", token, {"first": 50})).ok()["recommendedJobs"]
    assert second not in {e["node"]["posting"]["id"] for e in after["edges"]}
    undo = await api.run("UndoJobNotInterested", token, {"postingId": second})
    assert undo.ok()["undoJobNotInterested"] is True

    applied = (await api.run("ApplyToJob", token, {"postingId": first})).ok()["applyToJob"]
    assert applied["source"] == "APP" and applied["kind"] == "POSTING"
    after = (await api.run("RecommendedJobs", token, {"first": 50})).ok()["recommendedJobs"]
    assert first not in {e["node"]["posting"]["id"] for e in after["edges"]}

    # --- joblog (Dine søgte job) ---------------------------------------------------------------
    entry_input = {
        "appliedOn": date.today().isoformat(),
        "form": "EMAIL",
        "kind": "UNSOLICITED",
        "companyName": "Nordisk Pakkecenter A/S",
        "jobTitle": "Pakkerimedarbejder",
        "note": "Sendt til HR",
    }
    entry = (await api.run("AddJobApplication", token, {"input": entry_input})).ok()
    entry_id = entry["addJobApplication"]["id"]
    assert entry["addJobApplication"]["source"] == "MANUAL"
    # A partial update: what is left out stays as it was (issue item 10).
    partial = {"appliedOn": entry_input["appliedOn"], "form": "EMAIL", "status": "INTERVIEW"}
    changed = await api.run("UpdateJobApplication", token, {"id": entry_id, "input": partial})
    changed_entry = (changed.data or {}).get("updateJobApplication") or {}
    checks.check(
        not changed.errors
        and changed_entry["status"] == "INTERVIEW"
        and changed_entry["note"] == "Sendt til HR"
        and changed_entry["companyName"] == "Nordisk Pakkecenter A/S"
        and changed_entry["kind"] == "UNSOLICITED",
        "updateJobApplication is partial: fields left out keep their values (issue item 10); "
        f"got {changed.errors or changed_entry}",
    )
    log = (await api.run("JobApplications", token)).ok()["jobApplications"]["edges"]
    assert {e["node"]["id"] for e in log} >= {entry_id, applied["id"]}
    posting_entry = next(e["node"] for e in log if e["node"]["id"] == applied["id"])
    assert posting_entry["posting"]["id"] == first
    assert (await api.run("DeleteJobApplication", token, {"id": entry_id})).ok()[
        "deleteJobApplication"
    ]
    log = (await api.run("JobApplications", token)).ok()["jobApplications"]["edges"]
    assert entry_id not in {e["node"]["id"] for e in log}

    # --- the deck: swipe YES and NO, undo, block --------------------------------------------
    deck = (await api.run("SwipeDeck", token, {"first": 50})).ok()["swipeDeck"]
    in_deck = {card["offer"]["id"] for card in deck}
    assert {offer_a["id"], offer_b["id"]} <= in_deck, "the journey's offers are in reach"
    for card in deck:
        assert card["reason"] and 0 <= card["fit"] <= 1, card
    yes = await api.run("Swipe", token, {"offerId": offer_a["id"], "decision": "YES"})
    request_id = yes.ok()["swipe"]["request"]["id"]
    undone = (await api.run("UndoLastSwipe", token)).ok()["undoLastSwipe"]
    assert undone == {"offerId": offer_a["id"], "decision": "YES"}
    mine = (await api.run("MyMeetingRequests", token)).ok()["myMeetingRequests"]
    assert request_id not in {r["id"] for r in mine}
    yes = await api.run("Swipe", token, {"offerId": offer_a["id"], "decision": "YES"})
    request_id = yes.ok()["swipe"]["request"]["id"]
    no = {"offerId": offer_b["id"], "decision": "NO", "reason": "BAD_TIMES"}
    assert (await api.run("Swipe", token, no)).ok()["swipe"]["reason"] == "BAD_TIMES"
    # A second NO with another reason: CONFLICT or the new reason, never silently the first.
    again = await api.run("Swipe", token, {**no, "reason": "TOO_FAR"})
    checks.check(
        again.code == "CONFLICT"
        or (not again.errors and again.data["swipe"]["reason"] == "TOO_FAR"),
        f"a second NO with another reason answers CONFLICT or updates (item 10); got {again}",
    )
    deck = (await api.run("SwipeDeck", token, {"first": 50})).ok()["swipeDeck"]
    assert not {offer_a["id"], offer_b["id"]} & {c["offer"]["id"] for c in deck}
    mine = (await api.run("MyMeetingRequests", token)).ok()["myMeetingRequests"]
    assert [r["status"] for r in mine if r["id"] == request_id] == ["PENDING"]
    assert next(r for r in mine if r["id"] == request_id)["offer"]["id"] == offer_a["id"]

    other = await publish_offer(api, employer, "Kaffemøde: Truck om dagen")
    blocked = await api.run("BlockCompany", token, {"cvr": employer.cvr})
    assert employer.cvr in blocked.ok()["blockCompany"]
    deck = (await api.run("SwipeDeck", token, {"first": 50})).ok()["swipeDeck"]
    assert other["id"] not in {c["offer"]["id"] for c in deck}
    unblocked = await api.run("UnblockCompany", token, {"cvr": employer.cvr})
    assert employer.cvr not in unblocked.ok()["unblockCompany"]
    deck = (await api.run("SwipeDeck", token, {"first": 50})).ok()["swipeDeck"]
    assert other["id"] in {c["offer"]["id"] for c in deck}

    # --- the company opens the request (a logged CV view), then declines ----------------------
    listed = await api.run("MeetingRequests", employer.token, {"offerId": offer_a["id"]})
    assert request_id in {e["node"]["id"] for e in listed.ok()["meetingRequests"]["edges"]}
    assert (await api.run("CvViews", token)).ok()["cvViews"]["edges"] == [], (
        "listing requests is not a CV view"
    )
    candidate = await api.run("MeetingRequestCandidate", employer.token, {"requestId": request_id})
    assert candidate.ok()["meetingRequestCandidate"]["email"] is None, "pseudonymous until accepted"
    views = (await api.run("CvViews", token)).ok()["cvViews"]["edges"]
    assert [v["node"]["companyCvr"] for v in views] == [employer.cvr]
    assert views[0]["node"]["offerTitle"] == offer_a["title"] and views[0]["node"]["reasonText"]
    mine = (await api.run("MyMeetingRequests", token)).ok()["myMeetingRequests"]
    assert [r["status"] for r in mine if r["id"] == request_id] == ["SEEN"]
    undo_seen = await api.run("UndoLastSwipe", token)
    assert undo_seen.code in ("CONFLICT", None)  # the newest swipe is the NO; either is fine
    if undo_seen.code is None:  # the NO went; swipe it again so the history stays the same
        (await api.run("Swipe", token, no)).ok()
    declined = await api.run(
        "DeclineMeetingRequest", employer.token, {"id": request_id, "reason": "NO_CAPACITY"}
    )
    assert declined.ok()["declineMeetingRequest"]["status"] == "DECLINED"

    # --- notifications ---------------------------------------------------------------------
    inbox = (await api.run("Notifications", token)).ok()["notifications"]
    assert inbox["unreadCount"] >= 1 and inbox["edges"], "the decline sends a kind notice"
    notice = inbox["edges"][0]["node"]
    assert notice["category"] == "MEETINGS" and notice["title"] and notice["body"]
    read = (await api.run("MarkNotificationRead", token, {"id": notice["id"]})).ok()
    assert read["markNotificationRead"]["readAt"]
    (await api.run("MarkAllNotificationsRead", token)).ok()
    unread = await api.run("Notifications", token, {"unreadOnly": True})
    assert unread.ok()["notifications"]["unreadCount"] == 0
    prefs = (await api.run("NotificationPreferences", token)).ok()["notificationPreferences"]
    assert {c["category"] for c in prefs["categories"]} >= {"MEETINGS", "JOB_ALERTS"}
    new_prefs = {
        "quietHoursStart": "22:00",
        "quietHoursEnd": "07:00",
        "dailyCap": 5,
        "categories": [{"category": "NEWS", "enabled": False}],
    }
    changed = await api.run("UpdateNotificationPreferences", token, {"input": new_prefs})
    changed_prefs = changed.ok()["updateNotificationPreferences"]
    assert changed_prefs["dailyCap"] == 5 and changed_prefs["quietHoursStart"] == "22:00"

    # --- the job agent: its settings, then an alert for a new posting -------------------------
    agent = (await api.run("JobAgent", token)).ok()["jobAgent"]
    assert agent["active"] and agent["occupations"], "a basic agent is made from the CV"
    agent_input = {
        "occupationIds": [WAREHOUSE_WORKER],
        "radiusKm": 40,
        "hours": "ANY",
        "keywords": ["lager"],
        "cadence": "INSTANT",
        "active": True,
    }
    agent = (await api.run("UpdateJobAgent", token, {"input": agent_input})).ok()["updateJobAgent"]
    assert agent["cadence"] == "INSTANT" and agent["automatic"] is False
    posting = await api.run(
        "CreateJobPosting", employer.token, {"input": posting_input("Lagermedarbejder til nathold")}
    )
    posting_id = posting.ok()["createJobPosting"]["id"]
    alerts = await _wait_for_alert(api, token, posting_id)
    checks.check(
        alerts,
        "the job agent turns a new matching posting into an alert within 20 s (agent interval 2 s)",
    )

    # --- devices --------------------------------------------------------------------------
    fcm_token = f"e2e-fcm-{short_id()}-{'x' * 40}"
    device_input = {
        "token": fcm_token,
        "platform": "ANDROID",
        "appVersion": "1.4.0",
        "locale": "da",
        "installationId": "cE2eJourneyPhone000001",
    }
    device = (await api.run("RegisterDevice", token, {"input": device_input})).ok()
    assert device["registerDevice"]["tokenSuffix"] == fcm_token[-6:]
    devices = (await api.run("MyDevices", token)).ok()["myDevices"]
    assert [d["tokenSuffix"] for d in devices] == [fcm_token[-6:]]
    assert (await api.run("UnregisterDevice", token, {"token": fcm_token})).ok()["unregisterDevice"]
    assert (await api.run("MyDevices", token)).ok()["myDevices"] == []

    # --- Mine data, the export, consent history ---------------------------------------------
    my_data = (await api.run("MyData", token)).ok()["myData"]
    records = {s["purpose"]: s["records"] for s in my_data["sections"]}
    assert my_data["exportFormat"] == "jobunivers.my-data"
    assert records.get("profile") == 1 and records.get("cvs") == 1
    assert records.get("joblog", 0) >= 1 and records.get("cvViews", 0) == 1
    export = (await api.run("ExportMyData", token)).ok()["exportMyData"]
    assert export["citizenId"] == citizen_id
    problems = [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in jsonschema.Draft202012Validator(EXPORT_SCHEMA).iter_errors(export)
    ]
    checks.check(
        not problems,
        "the export of a citizen who used every feature validates against "
        f"mobile_contract/my-data.schema.json (item 2): {problems[:5]}",
    )
    history = (await api.run("ConsentHistory", token)).ok()["consentHistory"]["edges"]
    settings_changed = {e["node"]["setting"] for e in history}
    assert history and len(settings_changed) >= 2, history

    # --- profiling off: no CV-derived ranking, the citizen's own wishes still lead (item 5) ---
    off = {"profiling": False}
    privacy = (await api.run("UpdateMyPrivacySettings", token, {"input": off})).ok()
    assert privacy["updateMyPrivacySettings"]["privacy"]["profiling"] is False
    plain = (await api.run("RecommendedJobs", token, {"first": 20})).ok()["recommendedJobs"]
    assert plain["profiling"] is False and plain["edges"]
    cv_based = [
        e["node"]["posting"]["title"]
        for e in plain["edges"]
        if e["node"]["score"] or e["node"]["explanation"]["matchedCvItems"]
    ]
    checks.check(
        not cv_based,
        f"with profiling off no suggestion is scored on the CV (item 5): {cv_based}",
    )
    top = plain["edges"][0]["node"]["posting"]
    top_detail = (await api.run("JobPostingDetail", token, {"id": top["id"]})).ok()["jobPosting"]
    checks.check(
        top_detail["occupation"]["id"] in set(wishes["occupationIds"]),
        "with profiling off the wished occupations still order the suggestions (a wished "
        f"posting is in reach: {posting_id}); the first is {top['title']!r} "
        f"({top_detail['occupation']['label']})",
    )

    # --- erasure --------------------------------------------------------------------------
    erased = (await api.run("DeleteMyAccount", token)).ok()["deleteMyAccount"]
    assert erased["deletedAt"] and erased["recordsErased"] > 0
    for name, variables in (
        ("Viewer", {}),
        ("MyProfile", {}),
        ("UpdateMyProfile", {"input": profile_input}),
        ("CreateCv", {"input": CV}),
        ("ExportMyData", {}),
    ):
        result = await api.run(name, token, variables)
        reason = (result.errors[0].get("extensions") or {}).get("reason") if result.errors else None
        checks.check(
            result.code == "UNAUTHENTICATED" and reason == "ACCOUNT_DELETED",
            f"after deleteMyAccount the same token is refused (UNAUTHENTICATED, reason "
            f"ACCOUNT_DELETED) and nothing is re-created (item 3): {name} answered "
            f"{result.data if not result.errors else result.errors}",
        )
    caseworker = e2e_server.token("caseworker", f"e2e-sagsbehandler-{short_id()}")
    ids = Ids(
        postings=[first, second, posting_id],
        offers=[offer_a["id"], offer_b["id"], other["id"]],
        requests=[request_id],
        cvs=[cv_id, copy_id],
        occupations=[WAREHOUSE_WORKER],
    )
    accounts = [
        ("erased citizen", token),
        ("employer", employer.token),
        ("caseworker", caseworker),
    ]
    await checks.sweep(sweep(api, accounts, ids, after="a citizen erased their account"))
    checks.done()


async def _wait_for_alert(api: Api, token: str, posting_id: str, timeout_s: float = 20) -> bool:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while loop.time() < deadline:
        alerts = (await api.run("JobAgentAlerts", token)).ok()["jobAgentAlerts"]["edges"]
        if posting_id in {a["node"]["posting"]["id"] for a in alerts if a["node"]["posting"]}:
            return True
        await asyncio.sleep(1.0)
    return False
