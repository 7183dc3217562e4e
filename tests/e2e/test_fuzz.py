"""Schemathesis' GraphQL fuzzing against a live `jobunivers serve` (its own scratch database: the
fuzz writes), over a real socket, for a citizen's and an employer's token: no answer may be an
HTTP 5xx or carry INTERNAL_SERVER_ERROR, and the server's log may hold no tracebacks and none of
the seeded people's names, e-mail addresses, phone numbers or CV text.

The schema comes from the server's introspection (local mode). Every query and mutation is
fuzzed for each token (deleteMyAccount last), with valid and invalid arguments, with the
seeded world's real ids mixed in so calls reach past "not found", and with edge values (dates at
the ends of the calendar, broken paging cursors, non-ASCII digits); the number of examples per
operation is sized to a time budget (FUZZ_BUDGET_S: 80 s, about 90 s with the probes). The requests sent and
the failures found are printed (pytest -s) and written to fuzz-summary.txt in the test's tmp
directory.
"""

from __future__ import annotations

import base64
import json
import os
import re
import time
from collections import Counter
from pathlib import Path

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from pymongo import MongoClient
from schemathesis.config import SchemathesisConfig
from schemathesis.generation import GenerationMode
from schemathesis.graphql import nodes

from . import server as srv

FUZZ_BUDGET_S = float(os.environ.get("FUZZ_BUDGET_S", "80"))
PROBE_EXAMPLES = 3  # an operation the role may not call answers FORBIDDEN to all of these
MIN_EXAMPLES, MAX_EXAMPLES = 5, 300
LAST = ("Mutation.deleteMyAccount",)  # erases the account the other calls run as

DEMO_CITIZEN_ID = "demo-borger-aarhus"  # seed/demo.py; nothing is imported from the app
DEMO_EMPLOYER_ID = "demo-arbejdsgiver-logistik"
DEMO_COMPANY_CVR = "37741892"

# The fuzz is about answers to inputs; the rate limits (tested on their own) would answer most
# of it RATE_LIMITED after a few seconds.
EXTRA_ENV = {"JOBUNIVERS_RATE_LIMITS": "false"}


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("fuzz")
    plain = srv.server_env
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(srv, "server_env", lambda *a, **k: {**plain(*a, **k), **EXTRA_ENV})
        db, proc, running = srv.start(root)
    try:
        yield running, root
    finally:
        srv.stop(proc, db)


def _database(running: srv.RunningServer):
    port = running.env["JOBUNIVERS_EMBEDDED_DB_PORT"]
    return MongoClient(f"mongodb://127.0.0.1:{port}/", tz_aware=True)


def _ids(db) -> dict[str, list]:
    """Real ids of the seeded world, for schemathesis' dictionaries."""

    def ids(name: str, query: dict | None = None, limit: int = 40) -> list[str]:
        return [str(d["_id"]) for d in db[name].find(query or {}, {"_id": 1}).limit(limit)]

    slots = [str(s["_id"]) for o in db.offers.find({}, {"slots": 1}) for s in o.get("slots", [])]
    return {
        "ids": ids("offers") + ids("postings", limit=20) + ids("meeting_requests") + ids("cvs")
        + ids("joblog") + ids("inbox") + slots,
        "offers": ids("offers"),
        "postings": ids("postings"),
        "requests": ids("meeting_requests"),
        "slots": slots,
        "occupations": ids("occupations", limit=30),
        "cvrs": ids("companies"),
        "isco": ids("isco_groups", limit=30),
    }  # fmt: skip


def _cursor(value: object) -> str:
    return base64.b64encode(json.dumps(value).encode()).decode()


# Values at the edges that answers have broken on (issue 16, M3), mixed into the generated ones:
# dates at the ends of the calendar, paging cursors that decode to such dates, to deep nesting or
# to no JSON at all, and digits that are not ASCII.
EDGE_DATETIMES = (
    "9999-12-31T23:59:00Z", "9999-12-31T23:59:59.999999+00:00", "0001-01-01T00:00:00+14:00",
    "0001-01-01T00:00:00Z", "1970-01-01T00:00:00-12:00", "2026-02-29T10:00:00+01:00",
)  # fmt: skip
EDGE_DATES = ("9999-12-31", "0001-01-01", "1900-02-29")
EDGE_CURSORS = (
    _cursor(["9999-12-31T23:59:59+00:00", "x"]), _cursor(["0001-01-01T00:00:00+14:00", "x"]),
    _cursor([10**30, "x"]), _cursor(10**30), _cursor({"a": 1}), _cursor([]), _cursor([None, None]),
    base64.b64encode(b"[" * 5000).decode(), base64.b64encode(b"\xff\xfe").decode(),
    "not a cursor", "",
)  # fmt: skip
EDGE_CVRS = ("٣٧٧٤١٨٩٢", "³⁷⁷⁴¹⁸⁹²", "3774189", "377418920", "00000000")


def _scalars() -> None:
    """Date and DateTime values: as generated (with a time zone), or one at the edges."""
    dates = st.dates().map(str)
    zones = st.sampled_from(["Z", "+00:00", "+01:00", "+14:00", "-12:00"])
    times = st.times().map(lambda t: t.isoformat())
    generated = st.tuples(dates, times, zones).map(lambda d: f"{d[0]}T{d[1]}{d[2]}")
    schemathesis.graphql.scalar(
        "DateTime", st.one_of(generated, st.sampled_from(EDGE_DATETIMES)).map(nodes.String)
    )
    schemathesis.graphql.scalar(
        "Date", st.one_of(dates, st.sampled_from(EDGE_DATES)).map(nodes.String)
    )


def _config(ids: dict[str, list]) -> SchemathesisConfig:
    ids = {**ids, "cursors": list(EDGE_CURSORS), "cvrs": ids["cvrs"] + list(EDGE_CVRS)}
    bind = {
        "*.*.id": "ids",
        "*.*.offerId": "offers",
        "*.*.postingId": "postings",
        "*.*.requestId": "requests",
        "*.*.slotId": "slots",
        "*.*.cvr": "cvrs",
        "*.*.code": "isco",
        "*.*.after": "cursors",
    }
    return SchemathesisConfig.from_dict(
        {
            "dictionaries": {name: {"values": values} for name, values in ids.items() if values},
            "parameters": {
                key: {"dictionary": name, "probability": 0.6}
                for key, name in bind.items()
                if ids.get(name)
            },
        }
    )


def _personal_values(db) -> dict[str, set[str]]:
    """What the log must never show: the seeded people's names, contact details and CV text."""
    names, emails, phones, cv_text = set(), set(), set(), set()
    for person in [*db.citizens.find(), *db.employers.find()]:
        for key in ("firstName", "lastName"):
            if person.get(key):
                names.add(person[key])
        if person.get("email"):
            emails.add(person["email"])
        if person.get("phone"):
            phones.add(person["phone"])
            phones.add(person["phone"].replace(" ", ""))
    for cv in db.cvs.find():
        for job in cv.get("workHistory") or []:
            for key in ("description", "employer"):
                if job.get(key) and len(job[key]) >= 12:
                    cv_text.add(job[key])
    return {"name": names, "email": emails, "phone": phones, "CV text": cv_text}


EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
DANISH_PHONE = re.compile(r"\+45[ ]?\d{2}[ ]?\d{2}[ ]?\d{2}[ ]?\d{2}")


def log_problems(log: str, personal: dict[str, set[str]]) -> list[str]:
    found = []
    if "Traceback (most recent call last)" in log:
        found.append("a traceback")
    for line in log.splitlines():
        if '"level": "error"' in line or '"level": "critical"' in line:
            found.append(f"an error record: {line[:300]}")
            break
    for kind, values in personal.items():
        for value in sorted(values):
            pattern = rf"\b{re.escape(value)}\b" if kind == "name" else re.escape(value)
            if re.search(pattern, log):
                found.append(f"a seeded {kind}: {value!r}")
    for match in EMAIL.finditer(log):
        found.append(f"an e-mail address: {match.group(0)!r}")
        break
    for match in DANISH_PHONE.finditer(log):
        found.append(f"a phone number: {match.group(0)!r}")
        break
    return found


def test_the_log_check_sees_personal_data_and_tracebacks():
    personal = {"name": {"Mads", "Olsen"}, "email": {"mads.olsen0@example.dk"},
                "phone": {"+45 43 11 98 68"}, "CV text": {"Kørte gaffeltruck og reachtruck"}}  # fmt: skip
    clean = '{"level": "info", "logger": "api.access", "msg": "request", "status": 200}'
    assert log_problems(clean, personal) == []
    for leak in ("Mads", "mads.olsen0@example.dk", "+45 43 11 98 68", "kontakt: a@b.dk",
                 "+4520000000", "Kørte gaffeltruck og reachtruck", "Traceback (most recent call last)",
                 '{"level": "error", "msg": "unexpected error in resolver"}'):  # fmt: skip
        assert log_problems(clean + "\n" + leak, personal), leak


class Tally:
    def __init__(self) -> None:
        self.sent = 0
        self.by_code: Counter[str] = Counter()
        self.failures: list[dict] = []

    def record(self, label: str, role: str, body: str, response) -> tuple[str, ...]:
        self.sent += 1
        try:
            answer = response.json()
        except ValueError:
            answer = None
        errors = (answer.get("errors") or []) if isinstance(answer, dict) else []
        codes = tuple(
            (e.get("extensions") or {}).get("code") if isinstance(e, dict) else None for e in errors
        )
        self.by_code.update(codes or ("ok",))
        if response.status_code >= 500 or "INTERNAL_SERVER_ERROR" in codes or answer is None:
            self.failures.append({
                "operation": label, "role": role, "status": response.status_code,
                "codes": codes, "query": body, "answer": response.text[:400],
            })  # fmt: skip
        return codes

    def distinct(self) -> dict[tuple, list[dict]]:
        groups: dict[tuple, list[dict]] = {}
        for f in self.failures:
            groups.setdefault((f["operation"], f["status"], f["codes"]), []).append(f)
        return groups


def _fuzz_operation(
    op, role: str, token: str, session, tally: Tally, examples: int, invalid: bool = True
) -> list:
    """``examples`` cases (one in five with invalid arguments, where the operation has any and
    ``invalid``); the codes of the answers."""
    seen: list[tuple[str, ...]] = []
    strategy = op.as_strategy()
    if invalid and op.definition.raw.args:  # the graphql-core field
        strategy = st.one_of(*[strategy] * 4, op.as_strategy(GenerationMode.NEGATIVE))

    @given(case=strategy)
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case):
        response = case.call(session=session, headers={"Authorization": f"Bearer {token}"},
                             timeout=30)  # fmt: skip
        seen.append(tally.record(op.label, role, case.body, response))

    run()
    return seen


def test_fuzz_the_running_server(fuzz_server, tmp_path):
    running, _root = fuzz_server
    started = time.perf_counter()
    client = _database(running)
    db = client["jobunivers"]
    personal = _personal_values(db)
    assert all(personal.values()), "the seeded world has no people to look for in the log"
    config = _config(_ids(db))
    client.close()
    tokens = {
        "citizen": running.token("citizen", DEMO_CITIZEN_ID),
        "employer": running.token("employer", DEMO_EMPLOYER_ID, DEMO_COMPANY_CVR),
    }
    _scalars()
    schema = schemathesis.graphql.from_url(running.graphql_url, config=config, timeout=30)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 50, "the schema came back without its operations"
    ordered = [op for op in operations if op.label not in LAST]
    ordered += [op for op in operations if op.label in LAST]
    tally = Tally()
    session = requests.Session()
    plan = [(role, op) for role in tokens for op in ordered]
    deadline = time.monotonic() + FUZZ_BUDGET_S
    reached, skipped = 0, []
    latency = 0.02
    for k, (role, op) in enumerate(plan):
        t0, before = time.monotonic(), tally.sent
        codes = _fuzz_operation(op, role, tokens[role], session, tally, PROBE_EXAMPLES, False)
        if codes and all(c == ("FORBIDDEN",) for c in codes):
            continue  # not this role's operation
        reached += 1
        left = max(deadline - time.monotonic(), 0)
        # The pairs still to come, of which about the same share as so far will be reachable.
        remaining = (len(plan) - k) * reached / (k + 1)
        examples = int(left / max(remaining, 1) / latency)
        _fuzz_operation(op, role, tokens[role], session, tally,
                        max(MIN_EXAMPLES, min(MAX_EXAMPLES, examples)))  # fmt: skip
        if tally.sent > before:
            latency = 0.7 * latency + 0.3 * (time.monotonic() - t0) / (tally.sent - before)
        if not left:
            skipped.append(f"{role} {op.label}")
    fuzz_s = time.perf_counter() - started
    time.sleep(0.5)  # the last log lines
    log = running.log.read_text(errors="replace")
    hygiene = log_problems(log, personal)

    groups = tally.distinct()
    summary = (
        f"fuzz: {tally.sent} requests, {len(tally.failures)} failures "
        f"({len(groups)} distinct), {reached} operation/role pairs reached, "
        f"{fuzz_s:.0f} s; log problems: {len(hygiene)}; codes: {dict(tally.by_code.most_common())}"
    )
    lines = [summary]
    for (label, status, codes), items in sorted(groups.items(), key=lambda g: -len(g[1])):
        first = items[0]
        lines.append(f"  {len(items)} x {label} ({first['role']}): HTTP {status} {list(codes)}")
        lines.append(f"      query: {json.dumps(first['query'][:500], ensure_ascii=False)}")
        lines.append(f"      answer: {first['answer'][:300]}")
    lines += [f"  log: {p}" for p in hygiene[:20]]
    report = "\n".join(lines)
    print("\n" + report)
    (tmp_path / "fuzz-summary.txt").write_text(report + "\n", encoding="utf-8")
    Path(running.log).with_name("fuzz-summary.txt").write_text(report + "\n", encoding="utf-8")
    assert reached >= 40, summary  # the tokens reached the operations, not only FORBIDDEN
    assert not tally.failures, report
    assert not hygiene, report
