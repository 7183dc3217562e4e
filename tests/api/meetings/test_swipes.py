"""Swipes: YES sends one request (within the daily cap), NO records its reason and steers
the citizen's suggestions, and undo takes a YES back until the company has seen it."""

from __future__ import annotations

import asyncio

from seed.demo import DEMO_CITIZEN_ID, DEMO_EMPLOYER_ID, DEMO_OFFER_IDS
from tests.api.meetings.helpers import CITIZEN, EMPLOYER, SWIPE, UNDO, by_id
from tests.conftest import error_codes, gql


async def test_yes_sends_one_request_however_often_it_is_sent(client, world_db):
    offer = DEMO_OFFER_IDS[0]
    results = await asyncio.gather(
        *(gql(client, SWIPE, token=CITIZEN, variables={"offer": offer, "decision": "YES"})
          for _ in range(8))
    )  # fmt: skip
    assert all("errors" not in r for r in results), results
    request_ids = {r["data"]["swipe"]["request"]["id"] for r in results}
    assert len(request_ids) == 1
    assert world_db.meeting_requests.count_documents({"citizenId": DEMO_CITIZEN_ID}) == 1
    assert world_db.swipes.count_documents({"citizenId": DEMO_CITIZEN_ID}) == 1
    assert world_db.swipe_quota.find_one({"citizenId": DEMO_CITIZEN_ID})["yes"] == 1
    # The company's employer is told, once.
    notices = list(world_db.inbox.find({"recipientId": DEMO_EMPLOYER_ID,
                                        "key": f"request-created:{request_ids.pop()}"}))  # fmt: skip
    assert len(notices) == 1 and notices[0]["title"] == "Ny anmodning om kaffemøde"
    assert world_db.outbox.count_documents({"_id": notices[0]["_id"]}) == 1
    # Changing the answer needs an undo first.
    again = await gql(client, SWIPE, token=CITIZEN, variables={"offer": offer, "decision": "NO"})
    assert error_codes(again) == ["CONFLICT"]


async def test_no_records_the_reason_and_sends_nothing(client, world_db):
    result = await gql(client, SWIPE, token=CITIZEN,
                       variables={"offer": DEMO_OFFER_IDS[1], "decision": "NO", "reason": "TOO_FAR"})  # fmt: skip
    assert result["data"]["swipe"] == {"offerId": DEMO_OFFER_IDS[1], "decision": "NO",
                                       "reason": "TOO_FAR", "request": None}  # fmt: skip
    assert world_db.meeting_requests.count_documents({"citizenId": DEMO_CITIZEN_ID}) == 0
    bad = await gql(client, SWIPE, token=CITIZEN,
                    variables={"offer": DEMO_OFFER_IDS[0], "decision": "YES", "reason": "TOO_FAR"})  # fmt: skip
    assert error_codes(bad) == ["BAD_USER_INPUT"]


async def test_undo_takes_back_a_yes_until_the_company_has_seen_it(client, world_db):
    result = await gql(client, SWIPE, token=CITIZEN,
                       variables={"offer": DEMO_OFFER_IDS[0], "decision": "YES"})  # fmt: skip
    request_id = result["data"]["swipe"]["request"]["id"]
    undone = await gql(client, UNDO, token=CITIZEN)
    assert undone["data"]["undoLastSwipe"] == {"offerId": DEMO_OFFER_IDS[0], "decision": "YES"}
    assert world_db.meeting_requests.find_one({"_id": request_id}) is None
    assert world_db.swipes.count_documents({"citizenId": DEMO_CITIZEN_ID}) == 0
    assert world_db.inbox.count_documents({"key": f"request-created:{request_id}"}) == 0
    assert world_db.outbox.count_documents({"recipientId": DEMO_EMPLOYER_ID}) == 0
    assert world_db.swipe_quota.find_one({"citizenId": DEMO_CITIZEN_ID})["yes"] == 0
    assert error_codes(await gql(client, UNDO, token=CITIZEN)) == ["NOT_FOUND"]

    # Once the company opened the request, it cannot be undone.
    result = await gql(client, SWIPE, token=CITIZEN,
                       variables={"offer": DEMO_OFFER_IDS[0], "decision": "YES"})  # fmt: skip
    request_id = result["data"]["swipe"]["request"]["id"]
    opened = await gql(client, by_id('{ meetingRequestCandidate(requestId: "$ID") { initial } }', request_id),
                       token=EMPLOYER)  # fmt: skip
    assert opened["data"]["meetingRequestCandidate"]["initial"] == "J."
    assert error_codes(await gql(client, UNDO, token=CITIZEN)) == ["CONFLICT"]
    assert world_db.meeting_requests.find_one({"_id": request_id})["status"] == "SEEN"


async def test_daily_yes_cap_answers_rate_limited(client, world_db, settings):
    settings.daily_yes_swipes = 2
    offers = [o["_id"] for o in world_db.offers.find({"status": "OPEN"}).limit(4)]
    codes = []
    for offer in offers[:3]:
        r = await gql(client, SWIPE, token=CITIZEN, variables={"offer": offer, "decision": "YES"})
        codes.append(error_codes(r))
    assert codes == [[], [], ["RATE_LIMITED"]]
    limited = await gql(
        client, SWIPE, token=CITIZEN, variables={"offer": offers[2], "decision": "YES"}
    )
    assert "i dag" in limited["errors"][0]["message"]
    assert world_db.meeting_requests.count_documents({"citizenId": DEMO_CITIZEN_ID}) == 2
    # NO is not capped.
    no = await gql(client, SWIPE, token=CITIZEN, variables={"offer": offers[3], "decision": "NO"})
    assert "errors" not in no


async def test_the_daily_cap_holds_for_yes_swipes_sent_at_once(client, world_db, settings):
    """The swipe reads before it writes (issue 18): the cap is kept by the quota's increment
    in the transaction, so YES swipes to different cards racing each other cannot pass it."""
    settings.daily_yes_swipes = 2
    offers = [o["_id"] for o in world_db.offers.find({"status": "OPEN"}).limit(5)]
    assert len(offers) == 5
    results = await asyncio.gather(
        *(gql(client, SWIPE, token=CITIZEN, variables={"offer": o, "decision": "YES"})
          for o in offers)
    )  # fmt: skip
    codes = sorted(tuple(error_codes(r)) for r in results)
    assert codes == [(), (), ("RATE_LIMITED",), ("RATE_LIMITED",), ("RATE_LIMITED",)], results
    assert world_db.meeting_requests.count_documents({"citizenId": DEMO_CITIZEN_ID}) == 2
    assert world_db.swipes.count_documents({"citizenId": DEMO_CITIZEN_ID}) == 2
    assert world_db.swipe_quota.find_one({"citizenId": DEMO_CITIZEN_ID})["yes"] == 2
    # Nothing of a refused YES stays behind: no notice, no push.
    made = {r["_id"] for r in world_db.meeting_requests.find({"citizenId": DEMO_CITIZEN_ID})}
    keys = {d["key"] for d in world_db.inbox.find({"key": {"$regex": "^request-created:"}})}
    assert keys and keys <= {f"request-created:{rid}" for rid in made}
    notices = world_db.inbox.count_documents({"key": {"$regex": "^request-created:"}})
    assert world_db.outbox.count_documents({"key": {"$regex": "^request-created:"}}) == notices


async def test_a_wrong_field_swipe_lowers_that_field_in_job_suggestions(client, world_db):
    query = "{ recommendedJobs(first: 20) { edges { node { score posting { id occupation { iscoCode } } } } } }"
    before = await gql(client, query, token=CITIZEN)
    scores = {e["node"]["posting"]["id"]: (e["node"]["score"], e["node"]["posting"]["occupation"]["iscoCode"])
              for e in before["data"]["recommendedJobs"]["edges"]}  # fmt: skip
    units = set(world_db.offers.find_one({"_id": DEMO_OFFER_IDS[0]})["targetIscoCodes"])
    hit = [pid for pid, (_, unit) in scores.items() if unit in units]
    assert hit, "the demo citizen's suggestions include warehouse jobs"
    await gql(client, SWIPE, token=CITIZEN,
              variables={"offer": DEMO_OFFER_IDS[0], "decision": "NO", "reason": "WRONG_FIELD"})  # fmt: skip
    after = await gql(client, query, token=CITIZEN)
    new = {
        e["node"]["posting"]["id"]: e["node"]["score"]
        for e in after["data"]["recommendedJobs"]["edges"]
    }
    lowered = [pid for pid in hit if pid in new and new[pid] < scores[pid][0]]
    assert lowered and all(pid not in new or new[pid] < scores[pid][0] for pid in hit)


async def test_a_second_no_with_another_reason_replaces_the_reason(client, world_db):
    """The citizen corrects why they said no: the newest reason counts (and steers the deck);
    the answer keeps its place for undo, and YES after NO still needs an undo."""
    offer = DEMO_OFFER_IDS[1]
    first = await gql(client, SWIPE, token=CITIZEN,
                      variables={"offer": offer, "decision": "NO", "reason": "TOO_FAR"})  # fmt: skip
    assert first["data"]["swipe"]["reason"] == "TOO_FAR"
    created = world_db.swipes.find_one({"citizenId": DEMO_CITIZEN_ID})["createdAt"]
    again = await gql(client, SWIPE, token=CITIZEN,
                      variables={"offer": offer, "decision": "NO", "reason": "WRONG_FIELD"})  # fmt: skip
    assert again["data"]["swipe"] == {"offerId": offer, "decision": "NO",
                                      "reason": "WRONG_FIELD", "request": None}  # fmt: skip
    stored = list(world_db.swipes.find({"citizenId": DEMO_CITIZEN_ID}))
    assert [(s["reason"], s["createdAt"]) for s in stored] == [("WRONG_FIELD", created)]
    # The same NO again changes nothing; a NO without a reason clears it.
    same = await gql(client, SWIPE, token=CITIZEN,
                     variables={"offer": offer, "decision": "NO", "reason": "WRONG_FIELD"})  # fmt: skip
    assert same["data"]["swipe"]["reason"] == "WRONG_FIELD"
    cleared = await gql(client, SWIPE, token=CITIZEN, variables={"offer": offer, "decision": "NO"})
    assert cleared["data"]["swipe"]["reason"] is None
    assert world_db.swipes.find_one({"citizenId": DEMO_CITIZEN_ID})["reason"] is None
    yes = await gql(client, SWIPE, token=CITIZEN, variables={"offer": offer, "decision": "YES"})
    assert error_codes(yes) == ["CONFLICT"]
    assert world_db.meeting_requests.count_documents({"citizenId": DEMO_CITIZEN_ID}) == 0
