"""occupation(id), the ISCO hierarchy and its paginated occupations, over GraphQL."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from pymongo import MongoClient

from core.settings import Settings
from seed.demo import DEMO_CITIZEN_ID, FORKLIFT_OPERATOR
from seed.run import import_taxonomy
from seed.taxonomy import load_taxonomy
from store.client import Store
from tests.conftest import error_codes, gql, token_for


@pytest.fixture(scope="module")
def taxonomy_db(db_server):
    name = f"tax_{uuid.uuid4().hex[:8]}"

    async def load() -> None:
        store = Store(db_server.uri, name)
        await import_taxonomy(store.db, load_taxonomy(Settings().taxonomy_dir))
        await store.close()

    asyncio.run(load())
    yield name
    with MongoClient(db_server.uri) as client:
        client.drop_database(name)


@pytest.fixture
def database_name(taxonomy_db):  # every test here reads the one imported taxonomy
    return taxonomy_db


@pytest.fixture
def sync_db():  # and must not drop it
    return None


@pytest.fixture
def app(settings, command_counter, shared_engine):
    # These tests read the taxonomy only; the search index is not needed, so the shared
    # engine is not reloaded over the full taxonomy (which would embed 12,000 labels).
    from api.app import create_app

    shared_engine.ready = True
    return create_app(settings, command_listeners=[command_counter], engine=shared_engine)


TOKEN = token_for(DEMO_CITIZEN_ID)


async def test_occupation_by_id_in_danish_and_english(client):
    query = f'{{ occupation(id: "{FORKLIFT_OPERATOR}") {{ label labelDa alternativeLabels iscoCode iscoGroup {{ code label parent {{ code }} }} }} }}'
    da = (await gql(client, query, token=TOKEN))["data"]["occupation"]
    assert da["label"] == "gaffeltruckfører" == da["labelDa"]
    assert "driftsleder på lager" in da["alternativeLabels"]
    assert da["iscoGroup"] == {
        "code": "8344",
        "label": "Truckførerarbejde",
        "parent": {"code": "834"},
    }
    en = await gql(client, query, token=TOKEN, headers={"Accept-Language": "en"})
    assert en["data"]["occupation"]["label"] == "forklift operator"


async def test_unknown_occupation_is_null(client):
    result = await gql(client, '{ occupation(id: "no-such-id") { label } }', token=TOKEN)
    assert result["data"]["occupation"] is None and "errors" not in result


async def test_taxonomy_needs_a_token(client):
    result = await gql(client, "{ iscoGroups { code } }")
    assert error_codes(result) == ["UNAUTHENTICATED"]


async def test_hierarchy_walk_is_batched(client, command_counter):
    command_counter.reset()
    result = await gql(client, "{ iscoGroups { code label children { code level } } }", token=TOKEN)
    groups = result["data"]["iscoGroups"]
    assert [g["code"] for g in groups] == [str(i) for i in range(10)]
    assert groups[8]["label"] == "Operatør- og monteringsarbejde samt transportarbejde"
    assert {c["code"] for c in groups[9]["children"]} >= {"91", "93", "96"}
    assert all(c["level"] == 2 for g in groups for c in g["children"])
    # One query for the top level, one (DataLoader) for all ten groups' children.
    assert command_counter.count("find") == 2


async def test_group_occupations_paginate_without_gaps(client):
    query = """query($after: String) { iscoGroup(code: "933") {
        occupations(first: 3, after: $after) { edges { cursor node { id labelDa } }
                                              pageInfo { hasNextPage endCursor } } } }"""
    seen, after = [], None
    for _ in range(20):
        page = (await gql(client, query, token=TOKEN, variables={"after": after}))["data"]
        conn = page["iscoGroup"]["occupations"]
        seen += [e["node"]["labelDa"] for e in conn["edges"]]
        if not conn["pageInfo"]["hasNextPage"]:
            break
        after = conn["pageInfo"]["endCursor"]
    assert len(seen) == len(set(seen)) > 3
    assert seen == sorted(seen)
    assert "lagerarbejder" in seen


async def test_page_size_is_capped_and_cursor_checked(client):
    too_big = await gql(
        client,
        '{ iscoGroup(code: "9") { occupations(first: 51) { edges { cursor } } } }',
        token=TOKEN,
    )
    assert error_codes(too_big) == ["BAD_USER_INPUT"]
    assert "mellem 1 og 50" in too_big["errors"][0]["message"]
    bad_cursor = await gql(
        client,
        '{ iscoGroup(code: "9") { occupations(after: "%%%") { edges { cursor } } } }',
        token=TOKEN,
    )
    assert error_codes(bad_cursor) == ["BAD_USER_INPUT"]


TYPEAHEAD = "query($search: String!) { occupations(search: $search, first: 8) { id labelDa } }"


@pytest.fixture
def full_titles(shared_engine, monkeypatch):
    """The typeahead over the full taxonomy (as imported here), with the stand-in embedder of
    tests/matching/test_titles.py: these tests are about the lexical path, not the model."""
    from matching.titles import TitleNormalizer, taxonomy_entries
    from tests.matching.test_titles import HashEmbedder

    embedder = HashEmbedder()
    embedder.threads = []
    encode_uncached = embedder.encode_uncached

    def recording(texts):
        import threading

        embedder.threads.append(threading.current_thread().name)
        return encode_uncached(texts)

    embedder.encode_uncached = recording
    occupations = load_taxonomy(Settings().taxonomy_dir).occupations
    titles = TitleNormalizer(taxonomy_entries(occupations), embedder)
    monkeypatch.setattr(shared_engine, "titles", titles)
    return titles, embedder


async def typeahead(client, search: str) -> list[str]:
    result = await gql(client, TYPEAHEAD, token=TOKEN, variables={"search": search})
    assert "errors" not in result, result
    return [o["labelDa"] for o in result["data"]["occupations"]]


async def test_typeahead_keystrokes_answer_from_the_lexical_index(client, full_titles):
    titles, embedder = full_titles
    for typed in ("lag", "lage", "lager", "lagerm", "lagerme", "lagermedarbjder"):
        offered = await typeahead(client, typed)
        assert offered, typed
    assert offered[0] == "lagerarbejder"  # the typo, and no three-way tie
    assert "lagerarbejder" not in await typeahead(client, "pædagogmed")
    assert (await typeahead(client, "pædagogmedhjælper"))[0] != "børnehavepædagog"
    assert embedder.embedded == 0 and titles.fallbacks == 0


async def test_typeahead_embeds_only_what_it_cannot_answer_and_off_the_event_loop(
    client, full_titles
):
    titles, embedder = full_titles
    assert len(await typeahead(client, "qxzv wkpj")) == 8
    assert await typeahead(client, "qxzv wkpj")  # the cached answer: embedded once
    assert titles.fallbacks == 1 and embedder.embedded == 1
    assert embedder.threads and "MainThread" not in embedder.threads


async def test_typeahead_reads_each_occupation_once_per_loaded_taxonomy(
    client, full_titles, shared_engine, command_counter, monkeypatch
):
    """The documents of the occupations the typeahead names are kept with the taxonomy the
    engine loaded: a keystroke naming known occupations reads nothing, and a reload of the
    taxonomy (a new title normaliser) reads them again."""
    from matching.titles import TitleNormalizer, taxonomy_entries

    _, embedder = full_titles
    first = await typeahead(client, "lager")
    command_counter.reset()
    assert await typeahead(client, "lager") == first
    assert await typeahead(client, "lagerarbejder")  # its occupations were named by "lager"
    assert command_counter.count("find") == 0, command_counter.commands
    reloaded = TitleNormalizer(taxonomy_entries(load_taxonomy(Settings().taxonomy_dir).occupations),
                               embedder)  # fmt: skip
    monkeypatch.setattr(shared_engine, "titles", reloaded)
    assert await typeahead(client, "lager") == first
    assert command_counter.count("find") == 1
