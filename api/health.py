"""Liveness and readiness for orchestrators.

* ``/healthz``: the process is alive and serving HTTP. It never touches the database, so an
  orchestrator does not restart a healthy API because its database is down.
* ``/readyz``: 200 only when every check passes: ``database`` (one durable write succeeds, not
  only ping), ``search_index`` (the matching index is loaded) and, with the embedded database,
  ``disk`` (at least ``readiness_min_free_disk_mb`` free under it). The body names each check,
  ``{"ready": false, "checks": {"database": false, ...}, "reasons": {"database": "..."}}``,
  with a short reason for each failing one. The whole answer comes within about
  ``readiness_timeout_s``: a check still running then has failed.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from core.settings import Settings
from matching.engine import MatchingEngine
from store import health as store_health
from store.client import Store

router = APIRouter()

# A readiness check: None when it passes, else a short reason (no personal data).
Check = Callable[[], Awaitable[str | None]]


def readiness_checks(settings: Settings, store: Store, engine: MatchingEngine) -> dict[str, Check]:
    # Most of the budget for the write, so it reports its own reason before readyz gives up
    # (PyMongo may overshoot a wait for an unreachable server by up to 0.5 s).
    write_timeout_s = settings.readiness_timeout_s * 0.7

    async def database() -> str | None:
        return await store_health.probe_write(store.db, write_timeout_s)

    async def search_index() -> str | None:
        return None if engine.ready else "not loaded yet"

    async def disk() -> str | None:
        free = await asyncio.to_thread(store_health.free_disk_mb, settings.embedded_db_path)
        minimum = settings.readiness_min_free_disk_mb
        return None if free >= minimum else f"{free:.0f} MB free, below {minimum} MB"

    checks: dict[str, Check] = {"database": database, "search_index": search_index}
    if settings.uses_embedded_db:
        checks["disk"] = disk
    return checks


async def run_checks(checks: dict[str, Check], timeout_s: float) -> dict[str, str | None]:
    """Every check at once, each given until ``timeout_s``; name -> None (passed) or reason."""
    tasks = {name: asyncio.create_task(check()) for name, check in checks.items()}
    await asyncio.wait(tasks.values(), timeout=timeout_s)
    results: dict[str, str | None] = {}
    for name, task in tasks.items():
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
            results[name] = f"no answer within {timeout_s:g} s"
        elif task.exception() is not None:
            results[name] = f"check failed: {type(task.exception()).__name__}"
        else:
            results[name] = task.result()
    return results


@router.get("/healthz", include_in_schema=False)
async def healthz() -> dict[str, str]:
    """The process is alive and serving HTTP."""
    return {"status": "ok"}


@router.get("/readyz", include_in_schema=False)
async def readyz(request: Request) -> JSONResponse:
    """Ready when every readiness check passes (module docstring)."""
    settings: Settings = request.app.state.settings
    results = await run_checks(request.app.state.readiness_checks, settings.readiness_timeout_s)
    ready = all(reason is None for reason in results.values())
    body: dict[str, object] = {
        "ready": ready,
        "checks": {name: reason is None for name, reason in results.items()},
    }
    reasons = {name: reason for name, reason in results.items() if reason is not None}
    if reasons:
        body["reasons"] = reasons
    return JSONResponse(body, status_code=200 if ready else 503)
