"""The authorisation matrix (tests/api/authorisation_matrix.py) against the real app: every field
of Query, Mutation and Subscription x {no token, the citizen who owns the data, another citizen
with the first one's ids, the employer who owns the data, an employer of another company with the
first one's ids, a caseworker}. The owner succeeds; every other caller is refused with the
expected code or gets only their own data; refused calls change nothing in the database.

One world (use_every_feature plus a few offers, requests and meetings) serves every call: the
refused calls first (the whole database compared before and after each entry), then the calls
that act on the caller's own account (the owners' documents compared), then the owners' calls
with the same arguments, in the table's order.
"""

from __future__ import annotations

import base64
import json
import re
import time

import anyio
import httpx
import pytest
from fastapi.testclient import TestClient
from graphql import OperationDefinitionNode, parse, validate
from starlette.websockets import WebSocketDisconnect

from api.schema import build_schema
from core.settings import Settings
from seed.demo import DEMO_COMPANY_CVR, DEMO_EMPLOYER_ID, DEMO_OFFER_IDS
from store.personal_data import HOLDINGS
from tests.api.authorisation_matrix import (
    CASEWORKER_ID,
    ENTRIES,
    OTHER_CITIZEN_ID,
    OTHER_EMPLOYER_ID,
    ROLE,
    TOKENS,
    Caller,
    Entry,
    Kind,
    Outcome,
    World,
    build_world,
    document,
)
from tests.api.every_feature import CITIZEN_ID, SECRETS
from tests.conftest import receive_json_within

SUBJECT = {
    Caller.CITIZEN: CITIZEN_ID,
    Caller.OTHER_CITIZEN: OTHER_CITIZEN_ID,
    Caller.EMPLOYER: DEMO_EMPLOYER_ID,
    Caller.OTHER_EMPLOYER: OTHER_EMPLOYER_ID,
    Caller.CASEWORKER: CASEWORKER_ID,
}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # Some 500 calls in a few seconds from one address and six accounts: the rate limits are
    # not what this test is about (tests/api/test_rate_limits*.py are).
    return settings.model_copy(update={"rate_limits": False})


@pytest.fixture
def client(world_client):
    return world_client


# --- the table against the schema ---------------------------------------------------------


def _schema_fields() -> set[str]:
    schema = build_schema(Settings(mode="local"))._schema
    roots = (schema.query_type, schema.mutation_type, schema.subscription_type)
    return {f"{root.name}.{name}" for root in roots if root for name in root.fields}


def test_every_schema_field_has_an_entry_and_every_entry_a_field():
    fields = _schema_fields()
    named = [e.field for e in ENTRIES]
    assert len(named) == len(set(named)), "a field has two entries"
    missing = sorted(fields - set(named))
    gone = sorted(set(named) - fields)
    assert not missing, (
        f"operations without an entry in tests/api/authorisation_matrix.py: {missing}"
    )
    assert not gone, f"entries for fields that no longer exist: {gone}"


def test_each_entry_calls_its_field_with_a_valid_document():
    schema = build_schema(Settings(mode="local"))._schema
    for entry in ENTRIES:
        parsed = parse(document(entry.operation))
        problems = validate(schema, parsed)
        assert not problems, (entry.field, problems)
        ops = [d for d in parsed.definitions if isinstance(d, OperationDefinitionNode)]
        assert len(ops) == 1, entry.field
        assert ops[0].operation.value.capitalize() == entry.root, entry.field
        roots = [s.name.value for s in ops[0].selection_set.selections]
        assert roots == [entry.name], (entry.field, roots)


# --- what belongs to whom -----------------------------------------------------------------

# Where each party's documents are: the citizen's by the personal-data register (every
# collection holding a citizen's data and its owner field), the company's by its CVR and its
# employer user's id.
CITIZEN_OWNER = {h.collection: h.owner for h in HOLDINGS}
EMPLOYER_OWNER = {
    "offers": ("companyCvr", DEMO_COMPANY_CVR),
    "postings": ("companyCvr", DEMO_COMPANY_CVR),
    "meeting_requests": ("companyCvr", DEMO_COMPANY_CVR),
    "meetings": ("companyCvr", DEMO_COMPANY_CVR),
    "companies": ("_id", DEMO_COMPANY_CVR),
    "employers": ("_id", DEMO_EMPLOYER_ID),
    "inbox": ("recipientId", DEMO_EMPLOYER_ID),
    "outbox": ("recipientId", DEMO_EMPLOYER_ID),
    "devices": ("userId", DEMO_EMPLOYER_ID),
    "push_counts": ("userId", DEMO_EMPLOYER_ID),
    "notification_prefs": ("_id", DEMO_EMPLOYER_ID),
}
KEYS = {
    Caller.CITIZEN: {CITIZEN_ID},
    Caller.EMPLOYER: {DEMO_EMPLOYER_ID, DEMO_COMPANY_CVR},
}


def party_documents(db, parties) -> dict:
    """Every document of the parties, by collection and id."""
    found = {}
    for party in parties:
        where = (
            {n: (f, CITIZEN_ID) for n, f in CITIZEN_OWNER.items()}
            if party is Caller.CITIZEN
            else EMPLOYER_OWNER
        )
        for name, (owner_field, value) in sorted(where.items()):
            for doc in db[name].find({owner_field: value}):
                found[(name, str(doc["_id"]))] = doc
    return found


def snapshot(db) -> dict:
    return {
        name: list(db[name].find(sort=[("_id", 1)])) for name in sorted(db.list_collection_names())
    }


def party_ids(db, party: Caller) -> set[str]:
    """Strings that only the party's own data carries: its documents' ids, its id, CVR, company
    name and the citizen's contact details."""
    ids = {str(key) for (_, key) in party_documents(db, [party])} | KEYS[party]
    if party is Caller.CITIZEN:
        # The device token, and its last characters as myDevices shows them (tokenSuffix).
        ids |= {SECRETS["email"], SECRETS["phone"], SECRETS["device"], SECRETS["device"][-6:]}
    else:
        company = db.companies.find_one({"_id": DEMO_COMPANY_CVR})
        ids |= {company["name"]}
    # The taxonomy is public, whoever refers to it.
    public = {str(d["_id"]) for n in ("occupations", "isco_groups")
              for d in db[n].find({}, {"_id": 1})}  # fmt: skip
    return {i for i in ids - public if len(i) >= 6}


def compared_with(caller: Caller, parties: list[Caller]) -> list[Caller]:
    """Whose data ``caller`` must not see: the owner of the caller's own side (another citizen
    is held to the first citizen's data, another company to the first company's), or every
    owner when none is on the caller's side (an employer calling a citizen's inbox)."""
    same_side = [p for p in parties if ROLE[p] is ROLE[caller]]
    return same_side or parties


def diff(before: dict, after: dict) -> list[str]:
    out = []
    for name in sorted(set(before) | set(after)):
        was = {str(d["_id"]): d for d in before.get(name, [])}
        now = {str(d["_id"]): d for d in after.get(name, [])}
        for key in sorted(set(was) | set(now)):
            if was.get(key) != now.get(key):
                change = "added" if key not in was else "removed" if key not in now else "changed"
                out.append(f"{name}/{key} {change}")
    return out


# --- calling ------------------------------------------------------------------------------


class Calls:
    def __init__(self, client: httpx.AsyncClient, world: World) -> None:
        self.client, self.world = client, world
        self.count = 0
        self.call_s = 0.0
        self.slowest = (0.0, "", "")
        self.problems: list[str] = []

    async def send(self, entry: Entry, caller: Caller) -> tuple[int, dict | None]:
        headers = {"Authorization": f"Bearer {TOKENS[caller]}"} if TOKENS[caller] else {}
        body = {
            "query": document(entry.operation),
            "variables": entry.arguments(self.world, caller),
        }
        t0 = time.perf_counter()
        response = await self.client.post("/graphql", json=body, headers=headers)
        self.call_s += time.perf_counter() - t0
        self.slowest = max(self.slowest, (time.perf_counter() - t0, entry.field, str(caller)))
        self.count += 1
        try:
            return response.status_code, response.json()
        except ValueError:
            return response.status_code, None

    def problem(self, entry: Entry, caller: Caller, what: str, result=None) -> None:
        shown = json.dumps(result, ensure_ascii=False, default=str)[:600] if result else ""
        self.problems.append(f"{entry.field} by {caller}: {what} {shown}")


def codes(result: dict) -> list[str | None]:
    return [e.get("extensions", {}).get("code") for e in result.get("errors") or []]


def has_data(result: dict) -> bool:
    data = result.get("data")
    return bool(data) and any(v is not None for v in data.values())


def check_answer(calls: Calls, entry: Entry, caller: Caller, status, result, expect: Outcome):
    """The answer's shape: a GraphQL body with the expected codes (or none)."""
    if result is None or status >= 500:
        calls.problem(entry, caller, f"HTTP {status}, not a GraphQL answer")
        return False
    if "INTERNAL_SERVER_ERROR" in codes(result):
        calls.problem(entry, caller, "INTERNAL_SERVER_ERROR", result)
        return False
    wanted = [expect.code] if expect.code else []
    if codes(result) != wanted:
        calls.problem(entry, caller, f"expected {wanted or 'success'}, got {codes(result)}", result)
        return False
    if expect.kind is Kind.REFUSED and has_data(result):
        calls.problem(entry, caller, "refused, yet data came back", result)
        return False
    if wanted and not all(e.get("message") for e in result["errors"]):
        calls.problem(entry, caller, "an error without a message", result)
    return True


def visible(result: dict) -> str:
    """The answer as text, with every base64 value (paging cursors) decoded beside it: an id
    carried inside a cursor is shown too."""
    text = json.dumps(result, ensure_ascii=False)
    decoded = []
    for token in re.findall(r"[A-Za-z0-9+/=_-]{16,}", text):
        try:
            decoded.append(
                base64.b64decode(token + "=" * (-len(token) % 4), validate=False).decode()
            )
        except (ValueError, UnicodeDecodeError):
            continue
    return "\n".join([text, *decoded])


def leaked(result: dict, secrets: set[str]) -> list[str]:
    text = visible(result)
    return sorted(s for s in secrets if s in text)


async def test_authorisation_matrix(client, world_db, app):
    started = time.perf_counter()
    world = await build_world(client, world_db, app)
    setup_s = time.perf_counter() - started
    calls = Calls(client, world)
    # Each account's first signed-in request makes it known (an employer user is recorded for
    # its company's notices: api/companies/service.py EmployerAccounts): sign everyone in once.
    viewer = next(e for e in ENTRIES if e.field == "Query.viewer")
    for caller in Caller:
        if TOKENS[caller]:
            await calls.send(viewer, caller)
    secrets = {p: party_ids(world_db, p) for p in (Caller.CITIZEN, Caller.EMPLOYER)}
    http = [e for e in ENTRIES if e.root != "Subscription"]

    # 1. Refused calls, the whole database compared around each entry's (the snapshot after one
    # entry is the one before the next).
    refused = 0
    before = snapshot(world_db)
    for entry in ENTRIES:
        for caller in Caller:
            if entry.root == "Subscription":
                # Over HTTP a subscription is refused for everyone (the socket is tested below).
                status, result = await calls.send(entry, caller)
                if result is None or status >= 500 or not codes(result) or has_data(result) \
                        or "INTERNAL_SERVER_ERROR" in codes(result):  # fmt: skip
                    calls.problem(entry, caller, f"subscription over HTTP: HTTP {status}", result)
                refused += 1
                continue
            expect = entry.expected(caller)
            if expect is None or expect.kind is not Kind.REFUSED:
                continue
            status, result = await calls.send(entry, caller)
            check_answer(calls, entry, caller, status, result, expect)
            refused += 1
        after = snapshot(world_db)
        changed = diff(before, after)
        if changed:
            calls.problems.append(f"{entry.field}: the refused calls wrote {changed[:10]}")
        before = after

    # 2. Calls on the caller's own account, and public reads: none of the owners' ids in the
    # answer; none of the owners' documents changed (for a public read, nothing at all).
    own = 0
    for entry in http:
        callers = [
            c for c in Caller if (x := entry.expected(c)) and x.kind in (Kind.OWN, Kind.PUBLIC)
        ]
        if not callers:
            continue
        acting = {c for c in callers if entry.expected(c).kind is Kind.OWN}
        parties = [p for p in entry.parties() if p not in acting]

        def read(parties=parties, acting=acting) -> dict:
            return party_documents(world_db, parties) if acting else snapshot(world_db)

        before = read()
        for caller in callers:
            expect = entry.expected(caller)
            status, result = await calls.send(entry, caller)
            own += 1
            if not check_answer(calls, entry, caller, status, result, expect):
                continue
            if expect.kind is Kind.OWN:
                # What the caller shares with an owner (a company's request from the citizen)
                # is the caller's too.
                shared = secrets.get(caller, set())
                others = compared_with(caller, parties)
                seen = leaked(result, set().union(*(secrets[p] for p in others)) - shared)
                if seen:
                    calls.problem(entry, caller, f"shows the owners' {seen[:5]}", result)
        after = read()
        changed = diff({"": list(before.values())}, {"": list(after.values())}) if acting \
            else diff(before, after)  # fmt: skip
        if changed:
            calls.problems.append(
                f"{entry.field} by {', '.join(callers)}: changed the owners' documents {changed[:10]}"
            )

    # 3. The owners, with the same arguments.
    owner = 0
    for entry in http:
        for caller in entry.owner_callers():
            expect = entry.expected(caller)
            status, result = await calls.send(entry, caller)
            owner += 1
            if not check_answer(calls, entry, caller, status, result, expect):
                continue
            # Where others get their own data, the owner's answer shows the owner's ids: the
            # leak check above would have seen them in another caller's answer.
            others = {x.kind for c in Caller if (x := entry.expected(c))}
            witnessed = leaked(result, secrets[caller] | {SUBJECT[caller]})
            if Kind.OWN in others and entry.witness and not expect.code and not witnessed:
                calls.problem(entry, caller, "the owner's answer shows none of its ids", result)

    summary = (
        f"authorisation matrix: {len(ENTRIES)} operations, {calls.count} calls "
        f"({refused} refused, {own} on the caller's own account or public, {owner} by the owner); "
        f"setup {setup_s:.1f} s, total {time.perf_counter() - started:.1f} s; "
        f"{len(calls.problems)} problems; calls {calls.call_s:.1f} s, slowest {calls.slowest}"
    )
    print("\n" + summary)
    assert not calls.problems, summary + "\n" + "\n".join(calls.problems)


# --- subscriptions over the socket --------------------------------------------------------

SUBSCRIPTIONS = [e for e in ENTRIES if e.root == "Subscription"]


def _connect(tc: TestClient):
    return tc.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"])


def _init(ws, caller: Caller) -> None:
    ws.send_json(
        {"type": "connection_init", "payload": {"authorization": f"Bearer {TOKENS[caller]}"}}
    )
    assert receive_json_within(ws)["type"] == "connection_ack"


def _subscribe(ws, sid: str, entry: Entry, variables: dict | None = None) -> None:
    payload = {"query": document(entry.operation), "variables": variables or {}}
    ws.send_json({"id": sid, "type": "subscribe", "payload": payload})


def _next_messages(ws, seconds: float) -> list[dict]:
    """Every message that arrives within ``seconds`` (pings aside)."""
    got = []

    async def receive():
        with anyio.move_on_after(seconds):
            while True:
                got.append(await ws._send_rx.receive())

    ws.portal.call(receive)
    messages = [json.loads(m["text"]) for m in got if m.get("type") == "websocket.send"]
    return [m for m in messages if m.get("type") not in ("ping", "pong")]


def test_subscriptions_refuse_a_socket_without_a_token(app, sync_db):
    with TestClient(app) as tc:
        for entry in SUBSCRIPTIONS:
            for payload in ({}, {"authorization": "Bearer forged.token.value"}):
                with _connect(tc) as ws:
                    ws.send_json({"type": "connection_init", "payload": payload})
                    _subscribe(ws, "1", entry, {"intervalSeconds": 5})
                    with pytest.raises(WebSocketDisconnect) as closed:
                        message = ws.receive_json()
                        pytest.fail(f"{entry.field}: {message}")
                    assert closed.value.code == 4403, entry.field
            # Subscribing before connection_init closes the socket too (graphql-transport-ws).
            with _connect(tc) as ws:
                _subscribe(ws, "1", entry, {"intervalSeconds": 5})
                with pytest.raises(WebSocketDisconnect) as closed:
                    ws.receive_json()
                assert closed.value.code == 4401, entry.field


def test_subscriptions_deliver_only_the_callers_own_events(app, world_db):
    """Heartbeats name the caller; a meeting's updates and notices reach its citizen and its
    company, never another citizen, another company or a caseworker."""
    by_field = {e.field: e for e in SUBSCRIPTIONS}
    request = world_db.meeting_requests.find_one(
        {"citizenId": CITIZEN_ID, "offerId": DEMO_OFFER_IDS[0]}
    )
    slot = world_db.offers.find_one({"_id": DEMO_OFFER_IDS[0]})["slots"][1]["_id"]
    with TestClient(app) as tc:
        for caller in (c for c in Caller if c is not Caller.ANONYMOUS):
            with _connect(tc) as ws:
                _init(ws, caller)
                _subscribe(ws, "1", by_field["Subscription.heartbeat"], {"intervalSeconds": 5})
                message = receive_json_within(ws)
                assert message["type"] == "next", (caller, message)
                assert message["payload"]["data"]["heartbeat"]["viewerId"] == SUBJECT[caller]
        callers = [c for c in Caller if c is not Caller.ANONYMOUS]
        sockets = {}
        with (
            _connect(tc) as a, _connect(tc) as b, _connect(tc) as e, _connect(tc) as f, _connect(tc) as w,
        ):  # fmt: skip
            sockets = dict(zip(callers, (a, b, e, f, w), strict=True))
            for caller, ws in sockets.items():
                _init(ws, caller)
                _subscribe(ws, "m", by_field["Subscription.meetingUpdates"])
                _subscribe(ws, "n", by_field["Subscription.notificationAdded"])
            # The caseworker may not follow meetings at all.
            refusal = receive_json_within(w)
            errors = (
                refusal["payload"]["errors"] if refusal["type"] == "next" else refusal["payload"]
            )
            assert refusal["id"] == "m" and errors[0]["extensions"]["code"] == "FORBIDDEN", refusal
            # Anything already queued for the others (nothing expected) is drained.
            early = {c: _next_messages(ws, 0.5) for c, ws in sockets.items()}
            for caller in (Caller.OTHER_CITIZEN, Caller.OTHER_EMPLOYER, Caller.CASEWORKER):
                assert [m for m in early[caller] if m.get("type") != "complete"] == [], early[
                    caller
                ]

            def post(query: str, caller: Caller, **variables) -> dict:
                response = tc.post("/graphql", json={"query": query, "variables": variables},
                                   headers={"Authorization": f"Bearer {TOKENS[caller]}"})  # fmt: skip
                assert "errors" not in response.json(), response.json()
                return response.json()["data"]

            met = post(
                document("AcceptMeetingRequest"), Caller.EMPLOYER, id=request["_id"], slotId=slot
            )
            meeting = met["acceptMeetingRequest"]["id"]
            post(document("CancelMeeting"), Caller.CITIZEN, id=meeting, reason="Syg")
            got = {c: [] for c in sockets}
            deadline = time.monotonic() + 20
            wanted = {Caller.CITIZEN: {"m", "n"}, Caller.EMPLOYER: {"m", "n"}}
            while time.monotonic() < deadline and any(
                not want <= {m["id"] for m in got[c]} for c, want in wanted.items()
            ):
                for caller in wanted:
                    got[caller] += _next_messages(sockets[caller], 0.2)
            for caller, want in wanted.items():
                assert want <= {m["id"] for m in got[caller]}, (caller, got[caller])
            ids = {
                m["payload"]["data"]["meetingUpdates"]["id"]
                for m in got[Caller.CITIZEN]
                if m["id"] == "m"
            }
            assert {request["_id"], meeting} <= ids, got[Caller.CITIZEN]
            # The others: nothing, a second after the owners had theirs.
            for caller in (Caller.OTHER_CITIZEN, Caller.OTHER_EMPLOYER, Caller.CASEWORKER):
                late = _next_messages(sockets[caller], 1.0)
                assert late == [], (caller, late)
