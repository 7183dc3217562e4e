"""The job agent (jobagent): the citizen's saved job alert.

Every citizen with a profile gets a broad basic agent made from their CV (wanted and held
occupations, their radius and hours, daily digest); they can change it (occupations, radius,
hours, keywords, cadence: INSTANT for strong matches, DAILY or WEEKLY). New postings are
matched against all active agents in batches (``matching.alerts``), never twice for the same
posting and never for a repost (same company and same occupation within 30 days). Strong
matches on INSTANT agents are pushed at once (``job-alert``); the rest wait for the digest
(``job-digest``), topped up to five suggestions a week.

One module per part: ``repository`` (agents, alerts and the lease: the only one touching
collections), ``agents`` (the agent and its embedding), ``matcher`` (the agent index),
``alerts`` (recording matches, instant pushes), ``digests`` and ``loop``. The names below are
what the rest of the code uses.
"""

from .agents import (
    CADENCES,
    agent_text,
    basic_settings,
    ensure_agent,
    ensure_agents_for_all,
    get_agent,
    save_agent,
    sync_basic_agent,
)
from .alerts import REPOST_WINDOW, record_matches
from .digests import WEEKLY_MINIMUM, digest_text, send_digest, send_digests, top_up
from .loop import run_forever, run_once, take_lease
from .matcher import AgentMatcher, record_of
from .repository import INDEXES, LOCK, alerts_page

__all__ = [
    "CADENCES",
    "INDEXES",
    "LOCK",
    "REPOST_WINDOW",
    "WEEKLY_MINIMUM",
    "AgentMatcher",
    "agent_text",
    "alerts_page",
    "basic_settings",
    "digest_text",
    "ensure_agent",
    "ensure_agents_for_all",
    "get_agent",
    "record_matches",
    "record_of",
    "run_forever",
    "run_once",
    "save_agent",
    "send_digest",
    "send_digests",
    "sync_basic_agent",
    "take_lease",
    "top_up",
]
