"""Which offer a citizen or an employer may see (``api.offers.service.may_see``), without a
database."""

from __future__ import annotations

import pytest

from api.auth.actor import Actor, Role
from api.offers.service import may_see

OWN_CVR, OTHER_CVR = "12345674", "29403473"


@pytest.mark.parametrize("status", ["OPEN", "PAUSED", "CLOSED"])
def test_employers_see_their_own_offers_in_every_state_and_no_one_elses(status):
    offer = {"_id": "o1", "companyCvr": OWN_CVR, "status": status}
    assert may_see(Actor("e1", Role.EMPLOYER, OWN_CVR), offer)
    assert not may_see(Actor("e2", Role.EMPLOYER, OTHER_CVR), offer)


@pytest.mark.parametrize(
    ("status", "visible"), [("OPEN", True), ("PAUSED", False), ("CLOSED", False)]
)
def test_citizens_see_open_offers_only(status, visible):
    offer = {"_id": "o1", "companyCvr": OWN_CVR, "status": status}
    assert may_see(Actor("c1", Role.CITIZEN), offer) is visible
