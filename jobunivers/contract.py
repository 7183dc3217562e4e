"""The mobile contract: the committed schema, the app's operations and the persisted-query
manifest, plus the breaking-change gate against the schema the released app was built on."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from graphql import (
    GraphQLSchema,
    build_schema,
    find_breaking_changes,
    find_dangerous_changes,
    parse,
    validate,
)
from strawberry.printer import print_schema

from api.persisted import CONTRACT_DIR, MANIFEST_PATH, sha256_hex
from api.schema import build_schema as build_app_schema
from core.settings import Settings

SCHEMA_PATH = CONTRACT_DIR / "schema.graphql"
RELEASED_SCHEMA_PATH = CONTRACT_DIR / "released" / "schema.graphql"
CHANGES_PATH = CONTRACT_DIR / "CHANGES.md"
OPERATIONS_DIR = CONTRACT_DIR / "operations"


def contract_settings() -> Settings:
    """The schema as the app sees it in production (no GraphiQL, same types and limits)."""
    return Settings(mode="local")


def render_schema() -> str:
    return print_schema(build_app_schema(contract_settings())) + "\n"


def operation_files(directory: Path = OPERATIONS_DIR) -> list[Path]:
    return sorted(directory.glob("*.graphql"))


def render_manifest(directory: Path = OPERATIONS_DIR) -> str:
    operations = []
    for path in operation_files(directory):
        document = path.read_text(encoding="utf-8")
        names = re.findall(r"^\s*(?:query|mutation|subscription)\s+(\w+)", document, re.M)
        operations.append(
            {
                "file": path.name,
                "operations": names,
                "sha256": sha256_hex(document),
                "document": document,
            }
        )
    return json.dumps({"operations": operations}, indent=2, ensure_ascii=False) + "\n"


@dataclass
class ContractReport:
    stale_files: list[str]
    breaking: list[str]
    unacknowledged_dangerous: list[str]
    invalid_operations: list[str]

    @property
    def ok(self) -> bool:
        return not (
            self.stale_files
            or self.breaking
            or self.unacknowledged_dangerous
            or self.invalid_operations
        )

    def lines(self) -> list[str]:
        out = [f"out of date (run `jobunivers export-schema`): {f}" for f in self.stale_files]
        out += [f"breaking change against released schema: {b}" for b in self.breaking]
        out += [
            f"dangerous change not acknowledged in mobile_contract/CHANGES.md: {d}"
            for d in self.unacknowledged_dangerous
        ]
        out += [f"invalid operation: {o}" for o in self.invalid_operations]
        return out


def schema_changes(old: GraphQLSchema, new: GraphQLSchema) -> tuple[list[str], list[str]]:
    breaking = [f"{c.type.name}: {c.description}" for c in find_breaking_changes(old, new)]
    dangerous = [f"{c.type.name}: {c.description}" for c in find_dangerous_changes(old, new)]
    return breaking, dangerous


def validate_operations(schema: GraphQLSchema, directory: Path = OPERATIONS_DIR) -> list[str]:
    """Each operation must validate against the schema and pass the server's own limits."""
    from strawberry.extensions.max_aliases import create_validator as aliases_validator
    from strawberry.extensions.query_depth_limiter import create_validator as depth_validator

    settings = contract_settings()
    extra_rules = [
        depth_validator(settings.max_query_depth, None, None),
        aliases_validator(settings.max_aliases),
    ]
    problems = []
    for path in operation_files(directory):
        text = path.read_text(encoding="utf-8")
        try:
            document = parse(text, max_tokens=settings.max_tokens)
        except Exception as e:  # a syntax or token-limit error
            problems.append(f"{path.name}: {e}")
            continue
        from graphql import specified_rules

        for error in validate(schema, document, [*specified_rules, *extra_rules]):
            problems.append(f"{path.name}: {error.message}")
    return problems


def check_contract(
    released_path: Path = RELEASED_SCHEMA_PATH, changes_path: Path = CHANGES_PATH
) -> ContractReport:
    stale = []
    if not SCHEMA_PATH.exists() or SCHEMA_PATH.read_text(encoding="utf-8") != render_schema():
        stale.append(str(SCHEMA_PATH.relative_to(CONTRACT_DIR.parent)))
    if not MANIFEST_PATH.exists() or MANIFEST_PATH.read_text(encoding="utf-8") != render_manifest():
        stale.append(str(MANIFEST_PATH.relative_to(CONTRACT_DIR.parent)))
    current = build_schema(render_schema())
    breaking: list[str] = []
    unacknowledged: list[str] = []
    if released_path.exists():
        released = build_schema(released_path.read_text(encoding="utf-8"))
        breaking, dangerous = schema_changes(released, current)
        changes = changes_path.read_text(encoding="utf-8") if changes_path.exists() else ""
        unacknowledged = [d for d in dangerous if d not in changes]
    return ContractReport(stale, breaking, unacknowledged, validate_operations(current))


def export_contract() -> list[Path]:
    SCHEMA_PATH.write_text(render_schema(), encoding="utf-8")
    MANIFEST_PATH.write_text(render_manifest(), encoding="utf-8")
    return [SCHEMA_PATH, MANIFEST_PATH]


def release_contract() -> Path:
    """Freeze the current schema as the one a shipped app version depends on."""
    RELEASED_SCHEMA_PATH.parent.mkdir(parents=True, exist_ok=True)
    RELEASED_SCHEMA_PATH.write_text(render_schema(), encoding="utf-8")
    return RELEASED_SCHEMA_PATH
