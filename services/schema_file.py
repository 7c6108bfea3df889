"""The committed GraphQL schema file (``schema.graphql``) and the gate on breaking changes.

``python -m services.schema_file --write`` (``make schema``) exports the served schema; ``--check`` exits
non-zero when the committed file is stale. A breaking change against the committed file (graphql-core's
``find_breaking_changes``) is refused unless its description is listed, one per line, in
``schema-breaking-changes.txt``: frontends code against this file, so breaking it must be a decision.
"""

from __future__ import annotations

import argparse
import difflib
import sys
from collections.abc import Sequence
from pathlib import Path

from graphql import (
    GraphQLSchema,
    find_breaking_changes,
    find_dangerous_changes,
    lexicographic_sort_schema,
    print_schema,
)
from graphql import build_schema as parse_sdl

from core.settings import PROJECT_ROOT, Settings

SCHEMA_FILE = PROJECT_ROOT / "schema.graphql"
ACKNOWLEDGED_FILE = PROJECT_ROOT / "schema-breaking-changes.txt"


def export_settings() -> Settings:
    """Production settings built without reading the environment: the file must not depend on who exports it."""
    # model_construct skips the environment and .env sources; only defaults and these values apply.
    return Settings.model_construct(environment="production", graphiql=False, introspection=False)


def served_sdl(settings: Settings | None = None) -> str:
    """The SDL of the schema the app serves with ``settings`` (default: production-like)."""
    from schema.schema import build_schema  # imported late: `--help` should not build the schema

    return build_schema(settings or export_settings()).as_str().rstrip("\n") + "\n"


def to_schema(sdl: str) -> GraphQLSchema:
    return parse_sdl(sdl)


def normalize(sdl: str) -> str:
    """The SDL printed canonically (types, fields and values sorted), so only real differences show."""
    return print_schema(lexicographic_sort_schema(to_schema(sdl))).rstrip("\n") + "\n"


def sdl_diff(old: str, new: str, *, old_name: str = "schema.graphql", new_name: str = "served schema") -> str:
    """A unified diff of the two schemas after normalising; empty when they are the same schema."""
    return "".join(
        difflib.unified_diff(
            normalize(old).splitlines(keepends=True),
            normalize(new).splitlines(keepends=True),
            fromfile=old_name,
            tofile=new_name,
        )
    )


def breaking_changes(old: str, new: str) -> list[str]:
    """Descriptions of the changes from ``old`` to ``new`` that can break existing clients."""
    return [change.description for change in find_breaking_changes(to_schema(old), to_schema(new))]


def dangerous_changes(old: str, new: str) -> list[str]:
    """Descriptions of changes that may surprise clients (new enum values, union members, defaults)."""
    return [change.description for change in find_dangerous_changes(to_schema(old), to_schema(new))]


def acknowledged_changes(path: Path = ACKNOWLEDGED_FILE) -> set[str]:
    """The breaking-change descriptions explicitly accepted: one per line; blank lines and ``#`` comments skipped."""
    if not path.exists():
        return set()
    lines = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return {line for line in lines if line and not line.startswith("#")}


def unacknowledged_breaking_changes(old: str, new: str, acknowledged: set[str] | None = None) -> list[str]:
    """Breaking changes from ``old`` to ``new`` that nobody accepted in the acknowledgement file."""
    accepted = acknowledged_changes() if acknowledged is None else acknowledged
    return [description for description in breaking_changes(old, new) if description not in accepted]


def refusal_message(unacknowledged: Sequence[str], path: Path = ACKNOWLEDGED_FILE) -> str:
    lines = "\n".join(f"  {description}" for description in unacknowledged)
    return (
        f"the schema has breaking changes against the committed {SCHEMA_FILE.name}:\n{lines}\n"
        f"If they are intended, add each line above to {path.name} (with a '#' comment saying why), "
        "then run `make schema`."
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.schema_file", description="Export or check the schema.")
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--write", action="store_true", help="export the served schema to the file")
    action.add_argument("--check", action="store_true", help="exit 1 when the file is stale or a break is unaccepted")
    action.add_argument("--print", action="store_true", help="print the served schema")
    parser.add_argument("--file", type=Path, default=SCHEMA_FILE, help="default: %(default)s")
    parser.add_argument("--acknowledged", type=Path, default=ACKNOWLEDGED_FILE, help="default: %(default)s")
    args = parser.parse_args(argv)
    schema_file: Path = args.file

    new = served_sdl()
    if args.print:
        sys.stdout.write(new)
        return 0
    old = schema_file.read_text(encoding="utf-8") if schema_file.exists() else None
    if old is None and args.check:
        print(f"{schema_file} is missing: run `make schema`", file=sys.stderr)
        return 1

    if old is not None:
        unacknowledged = unacknowledged_breaking_changes(old, new, acknowledged_changes(args.acknowledged))
        if unacknowledged:
            print(refusal_message(unacknowledged, args.acknowledged), file=sys.stderr)
            return 1

    if args.check:
        assert old is not None
        diff = sdl_diff(old, new, old_name=str(schema_file))
        if diff:
            print(f"{schema_file} differs from the served schema: run `make schema`\n{diff}", file=sys.stderr)
            return 1
        return 0

    if old is not None:
        for description in dangerous_changes(old, new):
            print(f"note (dangerous change): {description}", file=sys.stderr)
    if old == new:
        print(f"{schema_file} is up to date")
        return 0
    schema_file.write_text(new, encoding="utf-8")
    print(f"wrote {schema_file}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
