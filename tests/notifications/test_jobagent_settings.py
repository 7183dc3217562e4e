"""The basic job agent is made from the citizen's wishes and, with profiling on, the jobs held."""

from __future__ import annotations

from notifications.jobagent import basic_settings

CITIZEN = {
    "_id": "c1",
    "preferences": {"occupationIds": ["wish"], "radiusKm": 20, "hours": "FULL_TIME"},
    "consents": {"profiling": True},
}
CV = {"workHistory": [{"occupationId": "held"}, {"title": "Uden stilling"}]}


def test_the_basic_agent_takes_wishes_and_jobs_held():
    settings = basic_settings(CITIZEN, CV)
    assert settings["occupationIds"] == ["wish", "held"]
    assert (settings["radiusKm"], settings["hours"]) == (20, "FULL_TIME")


def test_with_profiling_off_the_agent_takes_nothing_from_the_cv():
    off = CITIZEN | {"consents": {"profiling": False}}
    assert basic_settings(off, CV)["occupationIds"] == ["wish"]
