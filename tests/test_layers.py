"""The design card's dependency rule, checked on every import in the code (top level and inside
functions): api -> notifications -> matching -> store, no cycles, and no web framework below
the API."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("api", "notifications", "matching", "store", "core", "seed", "jobunivers")
ALLOWED = {
    "core": set(),
    "store": {"core"},
    "matching": {"store", "core"},
    "notifications": {"matching", "store", "core"},
    "seed": {"matching", "store", "core"},
    "api": {"notifications", "matching", "store", "core"},
    "jobunivers": set(PACKAGES),  # the command line puts everything together
}
WEB = {"fastapi", "strawberry", "starlette", "uvicorn"}
# The stand-in FCM server for tests and benchmarks is a small web app of its own.
WEB_ALLOWED_FILES = {"notifications/fake_fcm.py"}


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def test_packages_depend_only_downwards():
    wrong = []
    for package in PACKAGES:
        files = sorted((ROOT / package).rglob("*.py"))
        assert files, package
        for path in files:
            for top in _imports(path) & set(PACKAGES) - {package} - ALLOWED[package]:
                wrong.append(f"{path.relative_to(ROOT)} imports {top}")
    assert wrong == []


def test_no_web_framework_below_the_api():
    wrong = []
    for package in ("core", "store", "matching", "notifications", "seed"):
        for path in sorted((ROOT / package).rglob("*.py")):
            name = path.relative_to(ROOT).as_posix()
            if name not in WEB_ALLOWED_FILES and _imports(path) & WEB:
                wrong.append(name)
    assert wrong == []


def test_the_allowed_graph_has_no_cycles():
    def reaches(start: str, target: str, seen: frozenset = frozenset()) -> bool:
        return any(
            nxt == target or (nxt not in seen and reaches(nxt, target, seen | {nxt}))
            for nxt in ALLOWED[start] - {start}
        )

    assert [p for p in PACKAGES if reaches(p, p)] == []
