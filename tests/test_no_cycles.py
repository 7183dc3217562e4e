"""No import cycles between the modules of one package (matching, and every other top-level
package). Checked on every import in the code, at module level and inside functions, with
relative imports resolved; importing ``a.b.c`` also imports the packages ``a`` and ``a.b``.
The layer rule between packages is ``tests/test_layers.py``."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("matching", "api", "notifications", "store", "core", "seed", "jobunivers")

# Known cycles waiting for their owners to break them, each one strongly connected group of
# modules (none now). A fixed cycle that is still listed fails the test too, so the list
# cannot go stale.
ALLOWED_CYCLES: set[frozenset[str]] = set()


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def package_modules(package: str) -> dict[str, Path]:
    return {module_name(p): p for p in sorted((ROOT / package).rglob("*.py"))}


def imported_modules(name: str, path: Path, known: set[str]) -> set[str]:
    """The modules of ``known`` that ``name`` (at ``path``) imports, anywhere in the file.

    ``import a.b.c`` depends on a.b.c, and on the packages a and a.b unless they contain the
    importing module (then they are already being imported). ``from a.b import c`` depends on
    the module a.b.c when there is one, else on the package a.b itself.
    """
    is_package = path.name == "__init__.py"
    own_packages = {".".join(name.split(".")[:i]) for i in range(1, name.count(".") + 1)}
    if is_package:
        own_packages.add(name)
    found: set[str] = set()

    def add(target: str) -> None:
        parts = target.split(".")
        for i in range(1, len(parts)):
            prefix = ".".join(parts[:i])
            if prefix in known and prefix not in own_packages:
                found.add(prefix)
        if target in known:
            found.add(target)

    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".") if is_package else name.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            submodules = [f"{module}.{a.name}" for a in node.names if f"{module}.{a.name}" in known]
            for sub in submodules:  # from package import module
                add(sub)
            if len(submodules) < len(node.names):  # from module import name
                add(module)
                if module in own_packages and module in known:
                    found.add(module)  # names from an enclosing package's __init__
    found.discard(name)
    return found


def import_graph(package: str) -> dict[str, set[str]]:
    modules = package_modules(package)
    known = set(modules)
    return {name: imported_modules(name, path, known) for name, path in modules.items()}


def cycles(graph: dict[str, set[str]]) -> set[frozenset[str]]:
    """Strongly connected groups of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: set[frozenset[str]] = set()
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                group = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.add(member)
                    if member == node:
                        break
                if len(group) > 1:
                    found.add(frozenset(group))
    return found


def all_cycles() -> set[frozenset[str]]:
    return {group for package in PACKAGES for group in cycles(import_graph(package))}


def test_the_cycle_finder_sees_function_level_and_relative_imports(tmp_path):
    graph = {"p": set(), "p.a": {"p", "p.b"}, "p.b": {"p", "p.c"}, "p.c": {"p.a"}, "p.d": {"p"}}
    assert cycles(graph) == {frozenset({"p.a", "p.b", "p.c"})}
    known = {"p", "p.a", "p.b", "p.c", "p.d", "p.q", "p.q.r", "p.q.s"}
    (tmp_path / "a.py").write_text(
        "from . import b\n\ndef f():\n    from .c import g\n    import p.q.r\n",
        encoding="utf-8",
    )
    # p itself is being imported already; p.q (not p.a's package) runs on the way to p.q.r.
    assert imported_modules("p.a", tmp_path / "a.py", known) == {"p.b", "p.c", "p.q", "p.q.r"}
    (tmp_path / "r.py").write_text(
        "from . import s\nfrom .. import d\nfrom p.q import VALUE\n", encoding="utf-8"
    )
    # A name from the enclosing package's __init__ is a dependency on it.
    assert imported_modules("p.q.r", tmp_path / "r.py", known) == {"p.q.s", "p.d", "p.q"}


def test_matching_has_no_import_cycles():
    assert cycles(import_graph("matching")) == set()


def test_no_package_has_import_cycles_beyond_the_allowlist():
    found = all_cycles()
    new = sorted(sorted(group) for group in found - ALLOWED_CYCLES)
    fixed = sorted(sorted(group) for group in ALLOWED_CYCLES - found)
    assert new == [], f"import cycles: {new}"
    assert fixed == [], f"fixed cycles still allowlisted in ALLOWED_CYCLES: {fixed}"
