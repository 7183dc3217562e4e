"""The embedded database process: durable storage across restarts, idempotent indexes."""

from __future__ import annotations

import pytest
from pymongo import MongoClient

from api.indexes import all_index_specs
from store.client import Store
from store.embedded import EmbeddedDatabase, EmbeddedDatabaseError, answers_ping, free_port
from store.indexes import ensure_indexes


def test_data_survives_a_server_restart(tmp_path):
    server = EmbeddedDatabase(tmp_path / "db", port=free_port(), cache_size="128M")
    server.start()
    try:
        first_pid = server.process.pid
        with MongoClient(server.uri) as client:
            client.jobunivers.citizens.insert_one({"_id": "c1", "postalCode": "8000"})
        server.stop()
        assert not answers_ping(server.uri)
        server.start()
        assert server.process.pid != first_pid
        with MongoClient(server.uri) as client:
            assert client.jobunivers.citizens.find_one({"_id": "c1"})["postalCode"] == "8000"
    finally:
        server.stop()


def test_refuses_a_port_already_in_use(db_server, tmp_path):
    other = EmbeddedDatabase(tmp_path / "db", port=db_server.port)
    with pytest.raises(EmbeddedDatabaseError, match="already answers"):
        other.start()


async def test_index_creation_is_idempotent(settings, sync_db):
    store = Store(settings.effective_mongodb_uri, settings.database_name)
    try:
        specs = all_index_specs()
        await ensure_indexes(store.db, specs)
        first = {s.collection: await store.db[s.collection].index_information() for s in specs}
        await ensure_indexes(store.db, specs)
        second = {s.collection: await store.db[s.collection].index_information() for s in specs}
        assert first == second
        assert "outbox_idempotency_key" in second["outbox"]
        assert second["outbox"]["outbox_idempotency_key"]["unique"] is True
    finally:
        await store.close()
