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


# --- one owner per collection --------------------------------------------------------------
# Each collection is named (``store.collections.X``) by exactly one module: the repository that
# owns it; every other module asks that repository. Not counted: the names' own module, the
# personal-data register (it lists every holding so export and erasure cannot miss one) and the
# seed generator, which writes the demo world in bulk.
OWNERSHIP_EXEMPT = {"store/collections.py", "store/personal_data.py"}
OWNERSHIP_EXEMPT_PACKAGES = {"seed"}
# Where owners may live outside ``api/<feature>/repository.py``: the notifications' own
# repositories and the matching library's store of profile vectors.
NON_API_OWNERS = {
    "notifications/devices.py",
    "notifications/inbox.py",
    "notifications/outbox.py",
    "notifications/preferences.py",
    "notifications/jobagent/repository.py",
    "matching/profiles.py",
    "store/migrations.py",
    "store/health.py",
}


def _collection_constants() -> set[str]:
    tree = ast.parse((ROOT / "store/collections.py").read_text(encoding="utf-8"))
    return {
        t.id
        for node in tree.body
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
        for t in node.targets
        if isinstance(t, ast.Name) and t.id.isupper() and isinstance(node.value.value, str)
    }


def _collection_users() -> dict[str, set[str]]:
    names = _collection_constants()
    users: dict[str, set[str]] = {n: set() for n in names}
    for package in sorted(set(PACKAGES) - OWNERSHIP_EXEMPT_PACKAGES):
        for path in sorted((ROOT / package).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if rel in OWNERSHIP_EXEMPT:
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            aliases = {"collections"}
            for node in ast.walk(tree):
                # `from store import collections as c`, or `from . import collections` in store
                if isinstance(node, ast.ImportFrom) and (
                    node.module == "store"
                    or (rel.startswith("store/") and node.level == 1 and node.module is None)
                ):
                    aliases |= {a.asname or a.name for a in node.names if a.name == "collections"}
                if isinstance(node, ast.ImportFrom) and node.module == "store.collections":
                    for a in node.names:
                        if a.name in names:
                            users[a.name].add(rel)
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.Attribute)
                    and node.attr in names
                    and isinstance(node.value, ast.Name)
                    and node.value.id in aliases
                ):
                    users[node.attr].add(rel)
    return users


def test_each_collection_has_exactly_one_owning_repository():
    users = _collection_users()
    shared = {name: sorted(files) for name, files in users.items() if len(files) > 1}
    assert shared == {}
    unowned = sorted(name for name, files in users.items() if not files)
    assert unowned == []
    owners = {next(iter(files)) for files in users.values()}
    misplaced = sorted(
        f
        for f in owners
        if f not in NON_API_OWNERS and not (f.startswith("api/") and f.endswith("/repository.py"))
    )
    assert misplaced == []
