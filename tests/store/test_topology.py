"""Production refuses a standalone MongoDB: there ``w: "majority"`` is one copy and there are
no change streams. The embedded server answers as a one-node replica set by default and as a
standalone with ``--standalone``, so both answers are checked against a real server."""

from __future__ import annotations

import pytest
from pymongo import AsyncMongoClient

from store.client import StandaloneDatabaseError, require_replica_set
from store.embedded import EmbeddedDatabase, free_port


async def test_a_standalone_server_is_refused_and_a_replica_set_accepted(tmp_path, db_server):
    standalone = EmbeddedDatabase(
        tmp_path / "db", port=free_port(), cache_size="64M", standalone=True
    )
    with standalone:
        client: AsyncMongoClient = AsyncMongoClient(standalone.uri, directConnection=True)
        try:
            with pytest.raises(StandaloneDatabaseError, match="replica set"):
                await require_replica_set(client)
        finally:
            await client.close()
    client = AsyncMongoClient(db_server.uri)
    try:
        await require_replica_set(client)  # the default embedded server: a replica set
    finally:
        await client.close()
