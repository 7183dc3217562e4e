"""The coffee-meeting tests run against the seeded world (demo citizen, employer, offers and
requests), with the app's engine loaded."""

from __future__ import annotations

import pytest


@pytest.fixture
def client(world_client):
    return world_client
