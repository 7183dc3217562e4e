"""The mobile contract: committed schema and manifest are current, operations are valid, and
the breaking-change gate catches what would break a released app."""

from __future__ import annotations

import json

from graphql import build_schema

from api.persisted import MANIFEST_PATH, sha256_hex
from jobunivers.contract import (
    OPERATIONS_DIR,
    SCHEMA_PATH,
    check_contract,
    operation_files,
    render_manifest,
    render_schema,
    schema_changes,
    validate_operations,
)

BASE = """
type Query { viewer: Viewer! }
type Viewer { id: ID! role: ViewerRole! displayName: String }
enum ViewerRole { CITIZEN EMPLOYER }
"""


def test_committed_contract_is_current_and_compatible():
    report = check_contract()
    assert report.ok, "\n".join(report.lines())


def test_committed_schema_matches_generated():
    assert SCHEMA_PATH.read_text(encoding="utf-8") == render_schema()


def test_manifest_covers_every_operation_file():
    manifest = json.loads(MANIFEST_PATH.read_text(encoding="utf-8"))
    files = {p.name: p.read_text(encoding="utf-8") for p in operation_files()}
    assert {e["file"] for e in manifest["operations"]} == set(files)
    for entry in manifest["operations"]:
        assert entry["sha256"] == sha256_hex(files[entry["file"]])
    assert MANIFEST_PATH.read_text(encoding="utf-8") == render_manifest()


def test_removing_a_field_is_breaking():
    new = BASE.replace(" displayName: String", "")
    breaking, _ = schema_changes(build_schema(BASE), build_schema(new))
    assert any("displayName" in b for b in breaking)


def test_adding_an_enum_value_is_dangerous_not_breaking():
    new = BASE.replace("CITIZEN EMPLOYER", "CITIZEN EMPLOYER CASEWORKER")
    breaking, dangerous = schema_changes(build_schema(BASE), build_schema(new))
    assert breaking == []
    assert any("CASEWORKER" in d for d in dangerous)


def test_adding_an_optional_field_is_safe():
    new = BASE.replace("displayName: String", "displayName: String locale: String")
    assert schema_changes(build_schema(BASE), build_schema(new)) == ([], [])


def test_operation_validation_applies_server_limits(tmp_path):
    schema = build_schema(render_schema())
    (tmp_path / "Ok.graphql").write_text("query Ok { viewer { id } }")
    (tmp_path / "Unknown.graphql").write_text("query Unknown { viewer { shoeSize } }")
    aliases = " ".join(f"a{i}: viewer {{ id }}" for i in range(16))
    (tmp_path / "Aliases.graphql").write_text(f"query Aliases {{ {aliases} }}")
    problems = validate_operations(schema, tmp_path)
    assert not any(p.startswith("Ok.graphql") for p in problems)
    assert any(p.startswith("Unknown.graphql") and "shoeSize" in p for p in problems)
    assert any(p.startswith("Aliases.graphql") for p in problems)


def test_app_operations_exist():
    assert {p.name for p in OPERATIONS_DIR.glob("*.graphql")} >= {"Viewer.graphql"}


def test_dangerous_change_must_be_acknowledged(tmp_path):
    """A released app that knew no CASEWORKER role: adding it is dangerous until acknowledged."""
    released = tmp_path / "released.graphql"
    released.write_text(render_schema().replace("  CASEWORKER\n", ""))
    changes = tmp_path / "CHANGES.md"
    changes.write_text("# changes\n")
    report = check_contract(released, changes)
    assert not report.ok
    assert len(report.unacknowledged_dangerous) == 1
    line = report.unacknowledged_dangerous[0]
    assert "CASEWORKER" in line
    changes.write_text(f"# changes\n- {line} (old apps show the role as unknown)\n")
    assert check_contract(released, changes).ok


def test_breaking_change_against_released_fails(tmp_path):
    released = tmp_path / "released.graphql"
    released.write_text(render_schema().replace("type Query {", "type Query {\n  legacy: String"))
    report = check_contract(released, tmp_path / "none.md")
    assert any("legacy" in b for b in report.breaking)
    assert not report.ok
