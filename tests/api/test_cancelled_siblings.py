"""Issue 16, M3: ``iscoGroups { children { children { parent { parent { code } children {
occupations(first: 0) ... } } } } }`` answered HTTP 500 with a CancelledError.

Why: ``occupations(first: 0)`` is refused (BAD_USER_INPUT) in a non-null field, so the error
nulls its list item and graphql-core cancels the list's other items (gather_with_cancel). Those
were awaiting ``parent``, a DataLoader future shared with items of other lists; a cancelled
waiter cancels the future it awaits, so the other lists' items got CancelledError, which is no
Exception and escaped everything. Now each waiter awaits a shield of the shared future
(api/loaders.py), and whatever escapes execution is answered as a GraphQL error
(api/router.py)."""

from __future__ import annotations

import asyncio
import logging

import pytest

from seed.demo import DEMO_CITIZEN_ID

# The imported taxonomy of tests/api/test_taxonomy.py, read only.
from tests.api.test_taxonomy import database_name, sync_db, taxonomy_db  # noqa: F401
from tests.conftest import error_codes, token_for

TOKEN = token_for(DEMO_CITIZEN_ID)


@pytest.fixture
def app(settings, command_counter, shared_engine):
    from api.app import create_app

    shared_engine.ready = True  # the taxonomy is read, nothing is matched
    return create_app(settings, command_listeners=[command_counter], engine=shared_engine)


REPORTED = """{ iscoGroups { children { children { parent { parent { code }
  children { occupations(first: 0) { edges { cursor } } } } } } } }"""


async def test_the_reported_document_answers_bad_user_input(client, caplog):
    caplog.set_level(logging.INFO)
    response = await client.post("/graphql", json={"query": REPORTED},
                                 headers={"Authorization": f"Bearer {TOKEN}"})  # fmt: skip
    assert response.status_code == 200
    body = response.json()
    assert body["errors"] and set(error_codes(body)) == {"BAD_USER_INPUT"}
    assert body["errors"][0]["message"] == "first skal være mellem 1 og 50."
    # the lists whose items did not fail are all there
    groups = body["data"]["iscoGroups"]
    assert len(groups) == 10 and all(g["children"] for g in groups)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_what_escapes_execution_is_a_graphql_error(client, app, caplog, monkeypatch):
    """A CancelledError (or any exception) escaping the schema's execution, while the request
    itself is not being cancelled: INTERNAL_SERVER_ERROR with the request id, logged with its
    traceback, HTTP 200 with a JSON body."""
    from strawberry import Schema

    async def cancelled(*args, **kw):
        raise asyncio.CancelledError

    monkeypatch.setattr(Schema, "execute", cancelled)
    caplog.set_level(logging.INFO)
    response = await client.post("/graphql", json={"query": "{ viewer { id } }"},
                                 headers={"X-Request-ID": "abcdef1234567890"})  # fmt: skip
    assert response.status_code == 200
    error = response.json()["errors"][0]
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR", "requestId": "abcdef1234567890"}
    logged = [r for r in caplog.records if r.name == "api.errors" and r.levelno >= logging.ERROR]
    assert logged and logged[0].exc_info[0] is asyncio.CancelledError


@pytest.mark.parametrize("first", [0, -1])
async def test_refused_page_sizes_deep_in_lists(client, first):
    # (first: 51 here costs 50 a page, far above the cap: QUERY_TOO_COMPLEX before it runs)
    query = REPORTED.replace("first: 0", f"first: {first}")
    response = await client.post("/graphql", json={"query": query},
                                 headers={"Authorization": f"Bearer {TOKEN}"})  # fmt: skip
    assert response.status_code == 200
    assert set(error_codes(response.json())) == {"BAD_USER_INPUT"}
