"""One real server for the whole end-to-end session: the embedded database, `jobunivers seed`
and `jobunivers serve` on free ports (see server.py). Stopped with SIGTERM (then kill) at the
end; the server's log is printed when a test fails, so a masked INTERNAL_SERVER_ERROR can be
matched with its traceback by request id."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from . import server as srv
from .ops import EXERCISED, Api, operation_names


@pytest.fixture(scope="session")
def e2e_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[srv.RunningServer]:
    root = tmp_path_factory.mktemp("e2e")
    db, proc, running = srv.start(root)
    try:
        yield running
    finally:
        srv.stop(proc, db)


@pytest.fixture
async def api(e2e_server: srv.RunningServer) -> AsyncIterator[Api]:
    client = Api(e2e_server.graphql_url, e2e_server.ws_url)
    try:
        yield client
    finally:
        await client.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed and "e2e_server" in getattr(item, "funcargs", {}):
        tail = item.funcargs["e2e_server"].log_tail(8000)
        report.sections.append(("jobunivers serve log (tail)", tail))


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    if not EXERCISED:
        return
    names = operation_names()
    unsent = [n for n in names if n not in EXERCISED]
    terminalreporter.write_line(
        f"e2e: {len(names) - len(unsent)} of {len(names)} operations sent to the running server"
        + (f"; not sent in this run: {', '.join(unsent)}" if unsent else "")
    )
