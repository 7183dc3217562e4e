"""English texts name the citizen's jobs in English (issue 14, item 11): a suggestion read
"Suggested because of your experience as Truckfører hos PostNord". In English the reasons and
matched CV items use the occupation's English label (ESCO labelEn) and "at", and so do the deck
cards' reasons; Danish stays as it was."""

from __future__ import annotations

import pytest

from tests.api.meetings.helpers import CITIZEN, DECK
from tests.conftest import gql

JOBS = """query($first: Int!) { recommendedJobs(first: $first) { edges { node {
  explanation { summary reasons matchedCvItems } } } } }"""
# The demo citizen's CV titles (seed/demo.py), in the citizen's own Danish words.
DANISH_TITLES = ("truckfører", "lagermedarbejder", "ordreplukker")
EN = {"Accept-Language": "en"}


@pytest.fixture
def client(world_client):
    return world_client


def danish_in(text: str) -> list[str]:
    lowered = text.lower()
    return [w for w in (*DANISH_TITLES, " hos ") if w in lowered]


async def test_english_suggestions_name_cv_jobs_by_their_english_label(client):
    result = await gql(client, JOBS, token=CITIZEN, variables={"first": 20}, headers=EN)
    explanations = [e["node"]["explanation"] for e in result["data"]["recommendedJobs"]["edges"]]
    texts = [t for e in explanations for t in (e["summary"], *e["reasons"], *e["matchedCvItems"])]
    experience = [t for t in texts if "experience as" in t]
    assert experience, texts  # the demo citizen's CV drives suggestions
    assert any("forklift operator" in t or "warehouse worker" in t for t in experience)
    assert [(t, danish_in(t)) for t in texts if danish_in(t)] == []
    # Danish is unchanged: the citizen's own job titles, with "hos".
    da = await gql(client, JOBS, token=CITIZEN, variables={"first": 20})
    da_items = [
        item
        for e in da["data"]["recommendedJobs"]["edges"]
        for item in e["node"]["explanation"]["matchedCvItems"]
    ]
    assert any(" hos " in item for item in da_items)


async def test_english_deck_reasons_name_cv_jobs_by_their_english_label(client):
    deck = await gql(client, DECK, token=CITIZEN, variables={"first": 50}, headers=EN)
    reasons = [card["reason"] for card in deck["data"]["swipeDeck"]]
    assert reasons
    assert [(r, danish_in(r)) for r in reasons if danish_in(r)] == []
