"""The `jobunivers token` command mints tokens the API accepts; bad input is refused."""

from __future__ import annotations

import asyncio

import pytest
from typer.testing import CliRunner

from api.auth.actor import Role
from api.auth.local_tokens import LocalTokenVerifier
from core import settings as settings_module
from jobunivers.cli import cli
from seed.demo import DEMO_COMPANY_CVR
from tests.conftest import TEST_SECRET


@pytest.fixture
def env(monkeypatch, tmp_path):
    monkeypatch.setenv("JOBUNIVERS_LOCAL_TOKEN_SECRET", TEST_SECRET)
    monkeypatch.setenv("JOBUNIVERS_DATA_DIR", str(tmp_path))
    settings_module.get_settings.cache_clear()
    yield
    settings_module.get_settings.cache_clear()


def test_token_for_employer_verifies(env):
    result = CliRunner().invoke(
        cli, ["token", "--role", "employer", "--subject", "e-1", "--cvr", DEMO_COMPANY_CVR]
    )
    assert result.exit_code == 0, result.output
    token = result.stdout.strip().splitlines()[-1]
    actor = asyncio.run(LocalTokenVerifier(TEST_SECRET).verify(token))
    assert (actor.id, actor.role, actor.cvr) == ("e-1", Role.EMPLOYER, DEMO_COMPANY_CVR)


@pytest.mark.parametrize(
    "args",
    [
        ["--role", "employer", "--subject", "e-1"],
        ["--role", "employer", "--subject", "e-1", "--cvr", "12345678"],
        ["--role", "admin", "--subject", "x"],
    ],
)
def test_token_refuses_bad_input(env, args):
    result = CliRunner().invoke(cli, ["token", *args])
    assert result.exit_code == 2


def test_bench_alerts_prints_measured_figures():
    """The alerts benchmark runs the real pipeline end to end (scratch database, fake FCM
    over HTTP/2 in its own process) and reports what it measured."""
    import json
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-m", "jobunivers.cli", "bench", "alerts", "--agents", "2000",
         "--postings", "40", "--messages", "30", "--json"],
        capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    figures = json.loads(out.stdout)
    matching = figures["matching"][0]
    assert (matching["agents"], matching["postings"]) == (2000, 40) and matching["match_s"] >= 0
    outbox = figures["outbox"]
    (drain,) = outbox["end_to_end (current)"]["runs"]
    assert drain["delivered"] == 30 and drain["outcomes"] == {"sent": 30}
    # Raw sends (before and after the drain) and the drain all reach the fake FCM server.
    raw_sent = 30 * len(outbox["raw_send_path"]["runs"])
    assert outbox["received_by_fake_fcm"] == raw_sent + 30
    assert outbox["raw_send_path"]["messages_per_s"] > 0
