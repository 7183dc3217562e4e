"""`jobunivers bench load` end to end, briefly: the command starts a scratch stack (`jobunivers
run`: database, demo data, API, worker, housekeeping, job agent) and sends every operation at a
low fixed rate from its own process; each must be answered without an error. Figures are not
judged here (speed targets live in the benchmark)."""

from __future__ import annotations

import json
import subprocess
import sys

FIELDS = {"operation", "offered_per_s", "sent", "ok", "achieved_per_s", "p50_ms", "p90_ms",
          "p99_ms", "max_ms", "errors", "send_lag_p99_ms"}  # fmt: skip


def test_bench_load_sends_every_operation_and_prints_its_figures():
    done = subprocess.run(
        [sys.executable, "-m", "jobunivers.cli", "bench", "load", "--op", "all", "--rate", "3",
         "--seconds", "3", "--together", "--citizens", "40", "--offers", "12", "--postings",
         "40", "--warm-up", "0", "--json"],
        capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout)
    rows = {row["operation"]: row for row in result["load"]}
    assert set(rows) == {"swipe", "deck", "suggestions", "typeahead", "accept", "notifications"}
    for name, row in rows.items():
        assert set(row) >= FIELDS, row
        assert row["sent"] == 9, row  # 3/s for 3 s, open loop: all sent whatever the answers
        assert row["errors"] == {} and row["ok"] == row["sent"], (name, row)
        assert 0 < row["p50_ms"] <= row["p90_ms"] <= row["p99_ms"] <= row["max_ms"], row
        assert row["achieved_per_s"] > 0, row
