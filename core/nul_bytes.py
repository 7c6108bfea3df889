"""No NUL (U+0000) in any string of a request: PostgreSQL's text types cannot store one.

asyncpg refuses such a string only when it binds it, deep inside a resolver, and the client saw an internal error.
``RejectNulBytes`` refuses the whole operation before execution instead, over HTTP and websockets alike, with one
top-level ``BAD_USER_INPUT`` error: for the variables (every string, nested in input objects and lists, keys
included) and for the document's string literals. It is one rule for every operation, so no resolver checks it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import DocumentNode, GraphQLError, StringValueNode, Visitor, visit
from graphql.language.visitor import BREAK
from strawberry.extensions import SchemaExtension

from core.errors import TopLevelCode

NUL = "\x00"


def nul_path(value: Any, path: str = "") -> str | None:
    """The dotted path of the first string holding a NUL inside ``value`` (JSON-like data), or None."""
    stack: list[tuple[Any, str]] = [(value, path)]
    while stack:
        item, at = stack.pop()
        if isinstance(item, str):
            if NUL in item:
                return at
        elif isinstance(item, dict):
            for key, child in item.items():
                child_path = f"{at}.{key}" if at else str(key)
                if isinstance(key, str) and NUL in key:
                    return child_path
                stack.append((child, child_path))
        elif isinstance(item, list | tuple):
            stack.extend((child, f"{at}[{index}]") for index, child in enumerate(item))
    return None


class _FindNul(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.found: StringValueNode | None = None

    def enter_string_value(self, node: StringValueNode, *_: Any) -> Any:
        if NUL in node.value:
            self.found = node
            return BREAK
        return None


def nul_literal(document: DocumentNode, source: str | None) -> StringValueNode | None:
    """The first string literal of ``document`` holding a NUL, or None.

    A literal can only hold one written raw or as an escape (``\\u0000``, ``\\u{0}``), so a source without either
    needs no walk: the usual document costs one substring search.
    """
    if source is not None and NUL not in source and "\\u" not in source:
        return None
    finder = _FindNul()
    visit(document, finder)
    return finder.found


def nul_error(field: str | None = None, node: StringValueNode | None = None) -> GraphQLError:
    extensions: dict[str, Any] = {"code": TopLevelCode.BAD_USER_INPUT.value}
    if field is not None:
        extensions["field"] = field
    return GraphQLError("Strings may not contain the NUL character (U+0000).", nodes=node, extensions=extensions)


class RejectNulBytes(SchemaExtension):
    """Refuse an operation whose variables or string literals hold a NUL, before it executes."""

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        field = nul_path(context.variables) if context.variables else None
        if field is not None:
            raise nul_error(field)
        if context.graphql_document is not None:
            node = nul_literal(context.graphql_document, context.query)
            if node is not None:
                raise nul_error(node=node)
        yield
