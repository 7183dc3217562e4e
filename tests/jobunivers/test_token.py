"""`jobunivers token --hours N` mints a token that lives N hours: 0 is honoured (an expired
token, for tests of expiry), a negative value is refused. Defect: `--hours 0` gave a 12-hour
token (issue 14, item 11)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import jwt
import pytest
from typer.testing import CliRunner

from api.auth.actor import Role
from api.auth.local_tokens import AUDIENCE, LocalTokenVerifier, mint_local_token
from core import settings as settings_module
from core.errors import Unauthenticated
from jobunivers.cli import cli
from tests.conftest import TEST_SECRET


@pytest.fixture
def env(monkeypatch, tmp_path):
    monkeypatch.setenv("JOBUNIVERS_LOCAL_TOKEN_SECRET", TEST_SECRET)
    monkeypatch.setenv("JOBUNIVERS_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("JOBUNIVERS_LOCAL_TOKEN_TTL_HOURS", raising=False)
    monkeypatch.delenv("JOBUNIVERS_LOCAL_TOKEN_MAX_TTL_HOURS", raising=False)
    settings_module.get_settings.cache_clear()
    yield monkeypatch
    settings_module.get_settings.cache_clear()


def mint(*extra: str) -> str:
    result = CliRunner().invoke(cli, ["token", "--role", "citizen", "--subject", "c-1", *extra])
    assert result.exit_code == 0, result.output
    return result.stdout.strip().splitlines()[-1]


def lifetime_s(token: str) -> int:
    claims = jwt.decode(
        token, TEST_SECRET, algorithms=["HS256"], audience=AUDIENCE, options={"verify_exp": False}
    )
    return claims["exp"] - claims["iat"]


def verify(token: str):
    return asyncio.run(LocalTokenVerifier(TEST_SECRET).verify(token))


def test_hours_zero_mints_an_expired_token(env):
    token = mint("--hours", "0")
    assert lifetime_s(token) == 0
    with pytest.raises(Unauthenticated) as refused:
        verify(token)
    assert refused.value.extra_extensions["reason"] == "TOKEN_EXPIRED"


def test_hours_are_honoured_and_default_to_the_setting(env):
    assert lifetime_s(mint("--hours", "2")) == 2 * 3600
    assert verify(mint("--hours", "1")).id == "c-1"
    assert lifetime_s(mint()) == 12 * 3600
    env.setenv("JOBUNIVERS_LOCAL_TOKEN_TTL_HOURS", "3")
    settings_module.get_settings.cache_clear()
    assert lifetime_s(mint()) == 3 * 3600


@pytest.mark.parametrize("hours", ["-1", "-24"])
def test_negative_hours_are_refused(env, hours):
    result = CliRunner().invoke(
        cli, ["token", "--role", "citizen", "--subject", "c-1", "--hours", hours]
    )
    assert result.exit_code == 2
    assert "--hours" in result.output and "ey" not in result.stdout  # no token printed


def test_a_zero_ttl_is_not_the_default():
    token = mint_local_token(TEST_SECRET, "c-1", Role.CITIZEN, ttl=timedelta(0))
    assert lifetime_s(token) == 0
    assert lifetime_s(mint_local_token(TEST_SECRET, "c-1", Role.CITIZEN)) == 12 * 3600


# --- issue 16, L4: no local token lives longer than local_token_max_ttl_hours -------------------
@pytest.mark.parametrize("hours", [str(24 * 30 + 1), str(100 * 365 * 24), "99999999999999999999"])
def test_hours_beyond_the_cap_are_refused(env, hours):
    result = CliRunner().invoke(
        cli, ["token", "--role", "citizen", "--subject", "c-1", "--hours", hours]
    )
    assert result.exit_code == 2, result.output
    assert "at most 720 hours" in result.output and "ey" not in result.stdout


def test_the_cap_is_a_setting_and_tokens_up_to_it_are_minted(env):
    assert lifetime_s(mint("--hours", str(24 * 30))) == 24 * 30 * 3600  # the default cap
    env.setenv("JOBUNIVERS_LOCAL_TOKEN_MAX_TTL_HOURS", "2")
    settings_module.get_settings.cache_clear()
    assert lifetime_s(mint("--hours", "2")) == 2 * 3600
    refused = CliRunner().invoke(cli, ["token", "--role", "citizen", "--subject", "c-1"])
    assert refused.exit_code == 2  # the default 12 hours is beyond this cap
    assert "at most 2 hours" in refused.output


def test_the_verifier_refuses_a_token_beyond_its_cap():
    long_lived = mint_local_token(TEST_SECRET, "c-1", Role.CITIZEN, ttl=timedelta(days=31))
    with pytest.raises(Unauthenticated) as refused:
        verify(long_lived)
    assert refused.value.extra_extensions["reason"] == "TOKEN_INVALID"
    capped = LocalTokenVerifier(TEST_SECRET, max_ttl=timedelta(hours=1))
    two_hours = mint_local_token(TEST_SECRET, "c-1", Role.CITIZEN, ttl=timedelta(hours=2))
    with pytest.raises(Unauthenticated):
        asyncio.run(capped.verify(two_hours))
