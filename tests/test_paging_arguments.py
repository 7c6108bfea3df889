"""Every connection states its paging rules in the schema (each `first` and `last` names the limit, `first` the
default), and pages both ways."""

from __future__ import annotations

from graphql import GraphQLInterfaceType, GraphQLObjectType

from core.settings import Settings
from schema.base import DEFAULT_PAGE, MAX_PAGE
from schema.schema import build_schema


def test_each_first_argument_states_the_page_limit(settings: Settings) -> None:
    schema = build_schema(settings)._schema
    seen = 0
    for kind in schema.type_map.values():
        if not isinstance(kind, GraphQLObjectType | GraphQLInterfaceType) or kind.name.startswith("__"):
            continue
        for name, field in kind.fields.items():
            for argument_name in ("first", "after", "last", "before"):
                argument = field.args.get(argument_name)
                if argument is None:
                    continue
                seen += 1
                assert argument.description, f"{kind.name}.{name}({argument_name})"
                if argument_name == "first":
                    assert f"0 to {MAX_PAGE}" in argument.description and str(DEFAULT_PAGE) in argument.description
                if argument_name == "last":
                    assert f"0 to {MAX_PAGE}" in argument.description
            # (a connection pages both ways: Relay's full set of arguments)
            assert ("first" in field.args) == ("last" in field.args), f"{kind.name}.{name}"
    assert seen >= 40  # (the connections exist: the check is not vacuous)
