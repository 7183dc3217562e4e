"""Verified dev tokens are remembered until they expire (issue 17, the typeahead's request
path): the same token is not decoded again, an expired one is verified again, a different or
tampered token never gets another's answer, and erasure still refuses a remembered token."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import jwt
import pytest

from api.auth import local_tokens
from api.auth.actor import Role
from api.auth.local_tokens import LocalTokenVerifier, mint_local_token
from api.context import authenticate
from core.errors import Unauthenticated
from tests.conftest import TEST_SECRET


@pytest.fixture
def decodes(monkeypatch):
    calls: list[str] = []
    decode = jwt.decode

    def counting(token, *args, **kw):
        calls.append(token)
        return decode(token, *args, **kw)

    monkeypatch.setattr(local_tokens.jwt, "decode", counting)
    monkeypatch.setattr(local_tokens, "REMEMBER_TOKENS", True)
    return calls


def token(subject: str = "c-1", ttl: timedelta = timedelta(hours=1), **kw) -> str:
    return mint_local_token(TEST_SECRET, subject, Role.CITIZEN, ttl=ttl, **kw)


def test_a_verified_token_is_not_decoded_again_until_it_expires(decodes, monkeypatch):
    verifier = LocalTokenVerifier(TEST_SECRET)
    t = token()
    first = asyncio.run(verifier.verify(t))
    again = asyncio.run(verifier.verify(t))
    assert again == first and again.id == "c-1" and decodes == [t]
    # Past its exp, the remembered answer is not used: the token is verified again.
    later = first.expires_at.timestamp() + 1
    monkeypatch.setattr(local_tokens.time, "time", lambda: later)
    asyncio.run(verifier.verify(t))
    assert decodes == [t, t]


def test_other_tampered_and_refused_tokens_are_never_answered_from_memory(decodes):
    verifier = LocalTokenVerifier(TEST_SECRET)
    good = token()
    asyncio.run(verifier.verify(good))
    other = token("c-2")
    assert asyncio.run(verifier.verify(other)).id == "c-2"
    head, body, signature = good.split(".")
    tampered = f"{head}.{body}.{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BB'}"
    foreign = mint_local_token("another-secret", "c-1", Role.CITIZEN, ttl=timedelta(hours=1))
    expired = token(ttl=timedelta(0))
    for refused, reason in ((tampered, "TOKEN_INVALID"), (foreign, "TOKEN_INVALID"),
                            (expired, "TOKEN_EXPIRED")):  # fmt: skip
        for _ in range(2):  # refused each time, never remembered
            with pytest.raises(Unauthenticated) as e:
                asyncio.run(verifier.verify(refused))
            assert e.value.extra_extensions["reason"] == reason
    assert decodes.count(tampered) == 2 and decodes.count(expired) == 2


def test_erasure_refuses_a_remembered_token(decodes):
    verifier = LocalTokenVerifier(TEST_SECRET)
    t = token("c-erased")
    assert asyncio.run(authenticate(verifier, t)).actor.id == "c-erased"
    verifier.erased.add("c-erased")
    result = asyncio.run(authenticate(verifier, t))
    assert result.actor is None and result.error.extra_extensions["reason"] == "ACCOUNT_DELETED"
    assert decodes == [t]  # answered from memory, and still refused


def test_the_baseline_switch_verifies_every_time(decodes, monkeypatch):
    monkeypatch.setattr(local_tokens, "REMEMBER_TOKENS", False)
    verifier = LocalTokenVerifier(TEST_SECRET)
    t = token()
    asyncio.run(verifier.verify(t))
    asyncio.run(verifier.verify(t))
    assert decodes == [t, t]
