"""Every operation in mobile_contract/operations/ is driven by at least one journey of this
suite, so a new operation without an end-to-end journey fails here. Read from the journeys'
source (each `api.run("Name", ...)` / `api.subscribe("Name", ...)` call), so the answer does
not depend on which tests ran before; the sweep (sweep.py) adds every query."""

from __future__ import annotations

import ast
from pathlib import Path

from .ops import operation_kind, operation_names
from .sweep import SCREENS, screens

HERE = Path(__file__).parent


def _called_operations() -> dict[str, set[str]]:
    """Operation names passed as the first argument of api.run / api.subscribe, by module."""
    found: dict[str, set[str]] = {}
    for path in sorted(HERE.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("run", "subscribe")
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                found.setdefault(node.args[0].value, set()).add(path.name)
    return found


def test_every_operation_is_exercised_by_a_journey():
    called = _called_operations()
    journeys = {
        name
        for name, modules in called.items()
        if any(m.startswith("test_") or m == "actors.py" for m in modules)
    }
    missing = [n for n in operation_names() if n not in journeys]
    assert not missing, (
        "operations in mobile_contract/operations/ that no end-to-end journey drives "
        f"(add them to a journey in tests/e2e/): {missing}"
    )
    unknown = sorted(set(called) - set(operation_names()))
    assert not unknown, f"journeys call operations that have no file: {unknown}"


def test_every_screen_is_swept_after_endings():
    assert set(screens()) <= set(SCREENS), (
        "queries without an entry in tests/e2e/sweep.py SCREENS: "
        f"{sorted(set(screens()) - set(SCREENS))}"
    )
    for name in operation_names():  # one named operation per file, named as the file
        assert operation_kind(name) in ("query", "mutation", "subscription")
