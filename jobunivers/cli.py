"""`jobunivers`: the one command-line entry point.

jobunivers run            everything for local development (what `make run` calls)
jobunivers serve          the API (GraphQL on /graphql, /healthz, /readyz)
jobunivers worker         the push worker
jobunivers db             the embedded database in the foreground
jobunivers seed           demo data
jobunivers token          a local dev token
jobunivers export-schema  the mobile contract files (--check compares instead)
jobunivers healthcheck    liveness checks for orchestrators (healthcheck worker)
"""

from __future__ import annotations

import asyncio
import signal
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import typer
from rich.console import Console

from core.cvr import is_valid_cvr
from core.logging import configure_logging
from core.settings import ConfigurationError, Settings, get_settings

cli = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)
console = Console(stderr=True)


def _settings() -> Settings:
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json)
    try:
        settings.check_runnable()
    except ConfigurationError as e:
        console.print(f"[red]Configuration refused:[/red] {e}")
        raise typer.Exit(2) from None
    return settings


@cli.command()
def run() -> None:
    """Embedded database, demo data, API and push worker; Ctrl-C stops all of it."""
    from .supervisor import run_all

    raise typer.Exit(run_all(_settings(), console))


@cli.command()
def serve(
    host: str | None = typer.Option(None, help="Default: JOBUNIVERS_HOST"),
    port: int | None = typer.Option(None, help="Default: JOBUNIVERS_PORT"),
    workers: int | None = typer.Option(
        None, min=1, help="API processes on the one port. Default: JOBUNIVERS_API_WORKERS, else 1"
    ),
) -> None:
    """Serve the API. Connects to MONGODB_URI, or to the embedded database's port.

    With --workers N above 1, uvicorn binds the port once and runs N processes that share it;
    each builds its own app from the environment (``api.app:app_from_settings``): its own
    matching engine, database client, housekeeping and rate-limit buckets. What one process
    writes reaches the others through the database (see README, "Several API processes")."""
    import uvicorn

    settings = _settings()
    processes = workers or settings.api_workers or 1
    options = {
        "host": host or settings.host,
        "port": port or settings.port,
        "log_config": None,
        "access_log": False,
        "ws": "websockets-sansio",
        "ws_max_size": settings.max_body_bytes,  # a websocket message: no larger than a body
        "proxy_headers": settings.is_production,
        # On SIGTERM: stop accepting, let requests finish, then close what is still open (an
        # app's websocket would otherwise hold the stop forever).
        "timeout_graceful_shutdown": 10,
    }
    if processes == 1:
        from api.app import create_app

        uvicorn.run(create_app(settings), **options)
        return
    # An import string and a factory: each spawned process builds its own app.
    uvicorn.run("api.app:app_from_settings", factory=True, workers=processes, **options)


@cli.command()
def worker() -> None:
    """Run the push worker until SIGINT/SIGTERM."""
    from api.directory import AccountsDirectory
    from notifications.transports import FcmTransport, LocalTransport
    from notifications.worker import run_worker
    from store.client import Store, require_replica_set

    settings = _settings()
    if settings.push_transport == "fcm":
        from api.auth.firebase import firebase_app

        transport = FcmTransport(firebase_app(settings))
    else:
        transport = LocalTransport()

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        # Serving: every database call within timeoutMS, every write durable.
        store = Store.from_settings(settings, serving=True)
        heartbeat = worker_heartbeat_path(settings)
        heartbeat.parent.mkdir(parents=True, exist_ok=True)
        try:
            if settings.is_production:
                await require_replica_set(store.client)
            await run_worker(
                store.db,
                transport,
                AccountsDirectory(),
                stop,
                poll_interval_s=settings.worker_poll_interval_s,
                lease=timedelta(seconds=settings.worker_lease_s),
                slice_size=settings.worker_slice_size,
                heartbeat=heartbeat,
            )
        finally:
            await store.close()

    asyncio.run(main())


@cli.command()
def outbox(
    dead: int = typer.Option(20, help="How many dead letters to list"),
) -> None:
    """For operators: outbox messages by state, and the newest dead letters (ids, category,
    attempts and errors only; never texts or recipients)."""
    from notifications import outbox as box
    from store.client import Store

    settings = _settings()

    async def main() -> None:
        store = Store(settings.effective_mongodb_uri, settings.database_name)
        try:
            counts = await box.counts_by_status(store.db)
            for status, n in sorted(counts.items()):
                console.print(f"{status:>10}  {n:,}")
            for d in await box.dead_letters(store.db, dead):
                console.print(
                    f"dead {d['_id']}  {d.get('category')}/{d.get('payloadType')}  "
                    f"attempts={d.get('attempts')}  errors={d.get('lastError')}"
                )
        finally:
            await store.close()

    asyncio.run(main())


@cli.command()
def db() -> None:
    """Run the embedded database (secantusd-py) in the foreground, storage under var/db."""
    from store.embedded import EmbeddedDatabase

    settings = _settings()
    if not settings.uses_embedded_db:
        console.print("[red]MONGODB_URI is set: there is no embedded database to run.[/]")
        raise typer.Exit(2)
    embedded = EmbeddedDatabase(
        settings.embedded_db_path,
        host=settings.embedded_db_host,
        port=settings.embedded_db_port,
        cache_size=settings.embedded_db_cache_size,
        sync_on_commit=settings.durable_writes,
    )
    stop = {"now": False}

    def _stop(*_: object) -> None:
        stop["now"] = True

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    embedded.start()
    console.print(f"Embedded database on {embedded.uri} (storage {settings.embedded_db_path})")
    try:
        while not stop["now"] and embedded.process and embedded.process.poll() is None:
            # A signal that arrives during the wait is consumed by it (Linux blocks the waited-for
            # signals while waiting), so the handler never runs: the answer itself means stop.
            if signal.sigtimedwait([signal.SIGINT, signal.SIGTERM], 0.5) is not None:
                break
    finally:
        embedded.stop()


@cli.command()
def seed(
    citizens: int = typer.Option(1000, min=0, help="Citizens with a CV each"),
    companies: int = typer.Option(300, min=1, help="Companies with valid CVR numbers"),
    postings: int = typer.Option(2000, min=0, help="Job postings (reposts and copies included)"),
    offers: int = typer.Option(150, min=0, help="Coffee-meeting offers"),
    seed_number: int = typer.Option(42, "--seed", help="Same seed and --as-of, same data"),
    as_of: str | None = typer.Option(None, help="Reference date YYYY-MM-DD; default today"),
    eval_out: Path | None = typer.Option(None, help="Write citizen -> relevant postings labels"),
    eval_citizens: int = typer.Option(1000, min=1, help="At most this many labelled citizens"),
    if_empty: bool = typer.Option(False, "--if-empty", help="Only when no citizens exist yet"),
    index: bool = typer.Option(
        True, "--index/--no-index", help="Embed and index the postings (skip for huge sets)"
    ),
) -> None:
    """Import the taxonomy and generate realistic Danish demo data (idempotent)."""
    from seed.generator import SeedSpec

    from .bootstrap import prepare_database

    settings = _settings()
    try:
        day = date.fromisoformat(as_of) if as_of else datetime.now(UTC).date()
    except ValueError:
        console.print("[red]--as-of must be a date like 2026-11-23.[/]")
        raise typer.Exit(2) from None
    spec = SeedSpec(seed_number, companies, postings, offers, citizens, day)
    report = asyncio.run(
        prepare_database(
            settings,
            spec=spec,
            seed_if_empty=if_empty,
            force_seed=not if_empty,
            eval_out=eval_out,
            eval_citizens=eval_citizens,
            console=console,
            build_index=index,
        )
    )
    if report is None:
        console.print("Database not empty; nothing seeded.")
        return
    counts = ", ".join(f"{k} {v}" for k, v in report.counts.items())
    console.print(f"Seeded in {report.seconds:.1f} s: {counts}")
    if eval_out:
        console.print(f"Evaluation labels for {report.eval_citizens} citizens in {eval_out}")


@cli.command()
def token(
    role: str = typer.Option(..., help="citizen, employer or caseworker"),
    subject: str = typer.Option(..., help="The account id"),
    cvr: str | None = typer.Option(None, help="Company CVR, for employers"),
    hours: int | None = typer.Option(
        None,
        help="Lifetime in hours; 0 mints one that has already expired (for tests). "
        "Default JOBUNIVERS_LOCAL_TOKEN_TTL_HOURS; at most JOBUNIVERS_LOCAL_TOKEN_MAX_TTL_HOURS",
    ),
) -> None:
    """Mint a local dev token (local auth provider only)."""
    from api.auth.actor import Role
    from api.auth.local_tokens import mint_local_token

    settings = _settings()
    if settings.auth_provider != "local":
        console.print("[red]Local tokens are refused when auth_provider is firebase.[/]")
        raise typer.Exit(2)
    try:
        parsed_role = Role(role)
    except ValueError:
        console.print(f"[red]Unknown role {role!r}.[/]")
        raise typer.Exit(2) from None
    if parsed_role is Role.EMPLOYER and (cvr is None or not is_valid_cvr(cvr)):
        console.print("[red]Employers need --cvr with a valid CVR number.[/]")
        raise typer.Exit(2)
    if hours is not None and hours < 0:
        console.print("[red]--hours must be 0 or more (0: already expired).[/]")
        raise typer.Exit(2)
    # 0 is a value, not "unset": an expired token is what a test of expiry needs.
    lifetime_h = settings.local_token_ttl_hours if hours is None else hours
    if lifetime_h > settings.local_token_max_ttl_hours:
        # The API refuses a token that lives longer (api/auth/local_tokens.py).
        console.print(f"[red]A token lives at most {settings.local_token_max_ttl_hours} hours "
                      "(JOBUNIVERS_LOCAL_TOKEN_MAX_TTL_HOURS).[/]")  # fmt: skip
        raise typer.Exit(2)
    ttl = timedelta(hours=lifetime_h)
    print(mint_local_token(settings.resolved_local_token_secret(), subject, parsed_role, cvr, ttl))


@cli.command("export-schema")
def export_schema(
    check: bool = typer.Option(
        False, "--check", help="Compare instead of writing; exit 1 on drift."
    ),
) -> None:
    """Write mobile_contract/schema.graphql and persisted-queries.json (or check them)."""
    from .contract import check_contract, export_contract

    configure_logging("WARNING", json_lines=False)
    if not check:
        for path in export_contract():
            console.print(f"wrote {path}")
    report = check_contract()
    for line in report.lines():
        console.print(f"[red]{line}[/]")
    if not report.ok:
        raise typer.Exit(1)
    console.print("mobile contract OK")


@cli.command("release-contract")
def release_contract_cmd() -> None:
    """Freeze the current schema as released (do this when an app version ships)."""
    from .contract import release_contract

    console.print(f"wrote {release_contract()}")


def worker_heartbeat_path(settings: Settings) -> Path:
    """The file the push worker touches at every turn of its loop; its age is the worker's
    liveness (`jobunivers healthcheck worker`)."""
    return settings.data_dir / "worker.heartbeat"


healthcheck_app = typer.Typer(
    no_args_is_help=True,
    help="Liveness checks for container health checks and orchestrators: exit 0 or 1.",
)


@healthcheck_app.command("worker")
def healthcheck_worker(
    max_age: float = typer.Option(60.0, "--max-age", min=1.0, help="Seconds"),
) -> None:
    """Exit 1 when the push worker's heartbeat is missing or older than --max-age seconds (a
    worker that hangs or lost its loop); the API's liveness is GET /healthz."""
    import time

    # Quick and quiet: a health check runs every few seconds, so no logging set-up and no
    # configuration checks (the worker itself refused a bad configuration at its start).
    path = worker_heartbeat_path(get_settings())
    try:
        age_s = time.time() - path.stat().st_mtime
    except FileNotFoundError:
        console.print(f"worker unhealthy: no heartbeat at {path}")
        raise typer.Exit(1) from None
    if age_s > max_age:
        console.print(f"worker unhealthy: last heartbeat {age_s:.0f} s ago (max {max_age:.0f})")
        raise typer.Exit(1)
    console.print(f"worker healthy: last heartbeat {age_s:.0f} s ago")


cli.add_typer(healthcheck_app, name="healthcheck")

from .bench import bench as bench_app  # noqa: E402

cli.add_typer(bench_app, name="bench")


def main() -> None:
    cli(prog_name="jobunivers")


if __name__ == "__main__":
    sys.exit(main())
