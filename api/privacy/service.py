"""Mine data: what is held about the citizen and why, the full export, who viewed the CV, and
erasure of the account.

All three views of the data are driven by the register in ``store.personal_data``, so a
collection registered there appears here without further code.
"""

from __future__ import annotations

import base64
import logging
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
from bson import Binary

from api.auth.actor import Actor
from api.auth.verifier import TokenVerifier
from api.meetings import erasure as meetings
from core.errors import BadUserInput
from store.client import in_transaction
from store.personal_data import PURPOSES, holdings_for

from . import accounts, repository

log = logging.getLogger(__name__)

EXPORT_FORMAT = "jobunivers.my-data"
EXPORT_VERSION = 1


async def my_data(db, actor: Actor, locale: str) -> list[dict]:
    """One section per purpose: what it is, why it is held, how many records."""
    sections = []
    for purpose in PURPOSES:
        count = 0
        for holding in holdings_for(purpose):
            count += await repository.count_held(db, holding, actor.id)
        sections.append(
            {
                "purpose": purpose.key,
                "title": purpose.title(locale),
                "why": purpose.why(locale),
                "records": count,
            }
        )
    return sections


def _plain(value: Any) -> Any:
    """A stored value as JSON: times in ISO 8601 (UTC), vectors as lists of numbers."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Binary | bytes):
        raw = bytes(value)
        if len(raw) % 4 == 0:  # float32 vectors (the profile embedding)
            return [round(float(x), 6) for x in np.frombuffer(raw, dtype=np.float32)]
        return base64.b64encode(raw).decode()
    return value


async def export_my_data(db, actor: Actor, locale: str) -> dict:
    """Everything held about the citizen as one JSON document. The format is described by
    ``mobile_contract/my-data.schema.json``."""
    sections = []
    for purpose in PURPOSES:
        records = {}
        for holding in holdings_for(purpose):
            records[holding.collection] = [
                _plain(d) for d in await repository.documents_held(db, holding, actor.id)
            ]
        sections.append(
            {
                "purpose": purpose.key,
                "title": purpose.title(locale),
                "why": purpose.why(locale),
                "records": records,
            }
        )
    return {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "generatedAt": datetime.now(UTC).isoformat(),
        "citizenId": actor.id,
        "sections": sections,
    }


async def cv_views(db, actor: Actor, first: int, after) -> list[dict]:
    return await repository.views_page(db, actor.id, first, after)


async def delete_my_account(db, verifier: TokenVerifier, actor: Actor, confirm: bool) -> dict:
    """Erase the citizen: open meeting requests are withdrawn with notice to the companies,
    every registered collection is cleared of the citizen's data and a tombstone is left, in
    one transaction. Only anonymous counts and the tombstone remain; from then on the
    account's tokens are refused and nothing re-creates it. The sign-in account goes last (see
    ``accounts``)."""
    if not confirm:
        raise BadUserInput(
            "Bekræft at du vil slette din konto og alle dine data (confirm: true).",
            "Confirm that you want to delete your account and all your data (confirm: true).",
        )
    now = datetime.now(UTC)
    grave = accounts.tombstone(actor.id, now)

    async def work(session) -> dict:
        withdrawn = await meetings.withdraw_for_erasure(db, actor.id, now, session)
        touched = await repository.erase_holdings(db, actor.id, now, session)
        if await repository.insert_tombstone(db, grave, session):  # a repeat is not counted
            await repository.count_deletion(db, now.strftime("%Y-%m"), session)
        return {"withdrawn": withdrawn, "touched": touched}

    result = await in_transaction(db, work)
    verifier.erased.add(actor.id)  # this process refuses the account's tokens at once
    # The sign-in account, in another system: tried now, and by housekeeping until it is gone
    # (the tombstone says it is still to do, so a failure here is retried, not reported).
    try:
        await accounts.delete_sign_in_account(db, verifier, grave, now)
    except Exception:
        log.exception("recording the sign-in account deletion failed; housekeeping retries")
    return {
        "deletedAt": now,
        "withdrawnMeetingRequests": result["withdrawn"],
        "recordsErased": sum(result["touched"].values()),
    }
