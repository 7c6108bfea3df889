"""Every custom scalar says what format it takes: @specifiedBy, a description, and a row in docs/scalars.md (with
the Codegen scalars map a frontend copies)."""

from __future__ import annotations

from graphql import GraphQLScalarType, specified_scalar_types

from core.settings import PROJECT_ROOT, Settings
from schema.schema import build_schema


def test_each_custom_scalar_is_specified_and_documented(settings: Settings) -> None:
    schema = build_schema(settings)._schema
    custom = [
        kind
        for name, kind in schema.type_map.items()
        if isinstance(kind, GraphQLScalarType) and name not in specified_scalar_types
    ]
    docs = (PROJECT_ROOT / "docs" / "scalars.md").read_text()
    assert {kind.name for kind in custom} == {"Decimal", "Date", "DateTime"}
    for kind in custom:
        assert kind.specified_by_url and kind.specified_by_url.startswith("https://"), kind.name
        assert kind.description and "docs/scalars.md" in kind.description, kind.name
        assert f"| `{kind.name}` |" in docs and f'{kind.name}: {{ input: "string"' in docs, kind.name
