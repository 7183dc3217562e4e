"""`jobunivers run`: the whole local stack in one terminal.

Order on start: embedded database -> indexes and demo data -> API and push worker (as child
processes). On Ctrl-C (or if a child dies) the API and worker stop first, then the database, so
WiredTiger closes cleanly. Children run in their own sessions so the terminal's SIGINT reaches
only this supervisor, which then stops them in that order.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from datetime import timedelta

from rich.console import Console

from api.auth.actor import Role
from api.auth.local_tokens import mint_local_token
from core.settings import Settings
from seed.demo import DEMO_CITIZEN_ID, DEMO_COMPANY_CVR, DEMO_EMPLOYER_ID
from seed.generator import SeedSpec
from store.embedded import EmbeddedDatabase, answers_ping

from .bootstrap import prepare_database


def _print_tokens(settings: Settings, console: Console) -> None:
    if settings.auth_provider != "local":
        return
    secret = settings.resolved_local_token_secret()
    ttl = timedelta(hours=settings.local_token_ttl_hours)
    citizen = mint_local_token(secret, DEMO_CITIZEN_ID, Role.CITIZEN, ttl=ttl)
    employer = mint_local_token(secret, DEMO_EMPLOYER_ID, Role.EMPLOYER, DEMO_COMPANY_CVR, ttl)
    url = f"http://{settings.host}:{settings.port}/graphql"
    console.print(f"\n[bold]GraphiQL:[/bold] {url}")
    console.print(
        "Paste one of these into GraphiQL's Headers tab, then run { viewer { id role } }\n"
    )
    console.print(f"[bold]Demo citizen[/bold] ({DEMO_CITIZEN_ID}):")
    print(f'{{"Authorization": "Bearer {citizen}"}}', flush=True)
    console.print(f"[bold]Demo employer[/bold] ({DEMO_EMPLOYER_ID}, CVR {DEMO_COMPANY_CVR}):")
    print(f'{{"Authorization": "Bearer {employer}"}}', flush=True)
    console.print(f"(valid {settings.local_token_ttl_hours} h; new ones: jobunivers token)\n")


def _spawn(args: list[str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "jobunivers.cli", *args], start_new_session=True)


def _stop_child(proc: subprocess.Popen[bytes], timeout_s: float = 15.0) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def run_all(settings: Settings, console: Console) -> int:
    stopping = {"signal": None}

    def _on_signal(signum: int, _frame: object) -> None:
        stopping["signal"] = signum

    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)

    embedded: EmbeddedDatabase | None = None
    children: list[subprocess.Popen[bytes]] = []
    try:
        if settings.uses_embedded_db:
            embedded = EmbeddedDatabase(
                settings.embedded_db_path,
                host=settings.embedded_db_host,
                port=settings.embedded_db_port,
                cache_size=settings.embedded_db_cache_size,
            )
            if answers_ping(embedded.uri):
                console.print(f"Using the database already running on {embedded.uri}")
                embedded = None
            else:
                console.print(f"Starting embedded database ({settings.embedded_db_path}) ...")
                embedded.start()
        spec = SeedSpec(
            companies=settings.demo_companies,
            postings=settings.demo_postings,
            offers=settings.demo_offers,
            citizens=settings.demo_citizens,
        )
        report = asyncio.run(
            prepare_database(settings, spec=spec, seed_if_empty=True, console=console)
        )
        if report is None:
            console.print("Database has data; not seeding.")
        else:
            console.print(f"Demo data seeded in {report.seconds:.1f} s.")
        _print_tokens(settings, console)
        children = [_spawn(["serve"]), _spawn(["worker"])]
        while stopping["signal"] is None:
            if any(p.poll() is not None for p in children):
                console.print("[red]A child process stopped; shutting down.[/]")
                break
            time.sleep(0.3)
        return 0 if stopping["signal"] is not None else 1
    finally:
        console.print("Stopping ...")
        for proc in children:
            _stop_child(proc)
        if embedded is not None:
            embedded.stop()
        console.print("Stopped.")
