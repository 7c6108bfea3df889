"""The committed schema.graphql: in step with the served schema, and never broken without an acknowledgement."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from graphql import build_client_schema, get_introspection_query, lexicographic_sort_schema, print_schema

from services.schema_file import (
    ACKNOWLEDGED_FILE,
    SCHEMA_FILE,
    acknowledged_changes,
    breaking_changes,
    main,
    normalize,
    refusal_message,
    sdl_diff,
    served_sdl,
    unacknowledged_breaking_changes,
)
from tests.client import GraphQLClient
from tests.conftest import base_settings

STALE = "schema.graphql differs from the schema the app serves: run `make schema` and commit it.\n"

OLD = '''
type Query {
  """Kept."""
  invoice(id: ID!): Invoice
  legacyTotal: String
}

type Invoice { id: ID! number: String! status: Status! }
enum Status { DRAFT SENT }
'''


def committed_sdl() -> str:
    if not SCHEMA_FILE.exists():
        pytest.fail(f"{SCHEMA_FILE.name} is missing: run `make schema` and commit it")
    return SCHEMA_FILE.read_text(encoding="utf-8")


# --- the committed file against the served schema ---


def test_committed_schema_file_matches_the_served_schema() -> None:
    # given the committed file / when the served schema is exported / then they are the same schema
    diff = sdl_diff(committed_sdl(), served_sdl())
    assert not diff, STALE + diff


def test_committed_schema_has_no_unacknowledged_breaking_changes() -> None:
    # given the committed file (what frontends code against) and the served schema
    # when graphql-core looks for breaking changes between them
    unacknowledged = unacknowledged_breaking_changes(committed_sdl(), served_sdl())
    # then every one of them is listed in the acknowledgement file
    assert not unacknowledged, refusal_message(unacknowledged)


def test_exported_schema_does_not_depend_on_settings() -> None:
    # given development settings with introspection and GraphiQL on, and production settings with both off
    development = base_settings(environment="development", introspection=True, graphiql=True)
    production = base_settings(environment="production", introspection=False, graphiql=False)
    # when each builds the schema / then the SDL is the same as the exported one
    assert served_sdl(development) == served_sdl(production) == served_sdl()


async def test_schema_served_over_http_matches_the_committed_file(gql: GraphQLClient) -> None:
    # given the running app (test settings: introspection on)
    query = get_introspection_query(
        descriptions=True,
        specified_by_url=True,
        directive_is_repeatable=True,
        schema_description=True,
        input_value_deprecation=True,
        one_of=True,
    )
    # when a client introspects /graphql
    data = await gql(query)
    # then it sees exactly the committed schema
    introspected = print_schema(lexicographic_sort_schema(build_client_schema(data))) + "\n"
    diff = sdl_diff(committed_sdl(), introspected, new_name="introspected over HTTP")
    assert not diff, STALE + diff
    assert introspected == normalize(committed_sdl())


def test_acknowledgement_file_holds_only_well_formed_entries() -> None:
    # given the acknowledgement file / then each entry reads like a graphql-core change description
    for entry in acknowledged_changes(ACKNOWLEDGED_FILE):
        assert entry.endswith("."), f"{ACKNOWLEDGED_FILE.name}: {entry!r} is not a change description"


# --- the gate itself, on small schemas ---


def test_normalize_ignores_order_and_layout() -> None:
    reordered = "enum Status { SENT DRAFT }\ntype Invoice { status: Status! number: String! id: ID! }\n" + (
        'type Query { legacyTotal: String\n  """Kept."""\n  invoice(id: ID!): Invoice }'
    )
    assert sdl_diff(OLD, reordered) == ""
    assert normalize(OLD) == normalize(reordered)


def test_a_difference_is_shown_as_a_diff() -> None:
    new = OLD.replace("number: String!", "number: String! dueDate: String")
    diff = sdl_diff(OLD, new)
    assert "+  dueDate: String" in diff
    assert breaking_changes(OLD, new) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("  legacyTotal: String\n", ""), "Field Query.legacyTotal was removed."),
        (("enum Status { DRAFT SENT }", "enum Status { SENT }"), "Enum value Status.DRAFT was removed."),
        (("invoice(id: ID!)", "invoice(id: ID!, year: Int!)"), "A required argument Query.invoice(year:) was added."),
        (("number: String!", "number: Int!"), "Field Invoice.number changed type from String! to Int!."),
    ],
)
def test_breaking_changes_are_refused_unless_acknowledged(change: tuple[str, str], expected: str) -> None:
    # given a breaking edit of the old schema
    new = OLD.replace(*change)
    # when nothing is acknowledged / then it is reported
    assert unacknowledged_breaking_changes(OLD, new, acknowledged=set()) == [expected]
    # when its description is acknowledged / then it passes
    assert unacknowledged_breaking_changes(OLD, new, acknowledged={expected}) == []


def test_acknowledgement_file_format(tmp_path: Path) -> None:
    path = tmp_path / "acknowledged.txt"
    text = "# why: the field moved to Invoice.total\nField Query.legacyTotal was removed.\n\n  \n"
    path.write_text(text, encoding="utf-8")
    assert acknowledged_changes(path) == {"Field Query.legacyTotal was removed."}
    assert acknowledged_changes(tmp_path / "absent.txt") == set()


# --- the command line (`make schema`, `--check`) on a scratch file ---


def test_check_fails_on_a_stale_file_and_write_fixes_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # given a file that lacks one of the served schema's descriptions (a safe change)
    stale = tmp_path / "schema.graphql"
    served = served_sdl()
    without_a_description = re.sub(r'"""[^"]*"""\n', "", served, count=1)
    assert without_a_description != served
    stale.write_text(without_a_description, encoding="utf-8")
    ack = tmp_path / "ack.txt"
    # when it is checked / then the check fails and says what to run
    assert main(["--check", "--file", str(stale), "--acknowledged", str(ack)]) == 1
    assert "make schema" in capsys.readouterr().err
    # when it is written / then it holds the served schema and the check passes
    assert main(["--write", "--file", str(stale), "--acknowledged", str(ack)]) == 0
    assert stale.read_text(encoding="utf-8") == served
    assert main(["--check", "--file", str(stale), "--acknowledged", str(ack)]) == 0


def test_write_refuses_an_unacknowledged_breaking_change(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # given a committed file with a query field the served schema does not have
    committed = served_sdl().replace("type Query {", "type Query {\n  retiredField: String\n", 1)
    path = tmp_path / "schema.graphql"
    path.write_text(committed, encoding="utf-8")
    ack = tmp_path / "ack.txt"
    # when `make schema` runs / then it refuses, names the change and leaves the file alone
    assert main(["--write", "--file", str(path), "--acknowledged", str(ack)]) == 1
    assert "Field Query.retiredField was removed." in capsys.readouterr().err
    assert path.read_text(encoding="utf-8") == committed
    # when the change is acknowledged / then the file is written
    ack.write_text("# retired on purpose\nField Query.retiredField was removed.\n", encoding="utf-8")
    assert main(["--write", "--file", str(path), "--acknowledged", str(ack)]) == 0
    assert path.read_text(encoding="utf-8") == served_sdl()
