"""The app's own SQL text for asyncpg (``Database.fetch_row``): SQLAlchemy expressions rendered once, with every
constant inline and each request value a named marker, numbered ``$1``, ``$2`` … at the end."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy.dialects.postgresql import asyncpg

_MARKER = re.compile(r"__param_([a-z0-9_]+)__")
_DIALECT = asyncpg.dialect()  # numeric parameters: a literal `%` stays `%` (pyformat would double it)


@dataclass(frozen=True, slots=True)
class Statement:
    sql: str
    names: tuple[str, ...]  # the parameters, as $1, $2, … in this order

    def arguments(self, values: dict[str, Any]) -> list[Any]:
        return [values[name] for name in self.names]


def marker(name: str) -> str:
    """How SQL text names the request value ``name`` (before ``numbered``)."""
    return f"__param_{name}__"


def render(statement: Any) -> str:
    """SQL text with every constant inline (request values are ``marker`` names, numbered by ``numbered``)."""
    return str(statement.compile(dialect=_DIALECT, compile_kwargs={"literal_binds": True, "render_postcompile": True}))


def numbered(sql: str) -> Statement:
    """``sql`` with its markers as positional parameters, the same name the same number."""
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        if match.group(1) not in names:
            names.append(match.group(1))
        return f"${names.index(match.group(1)) + 1}"

    return Statement(_MARKER.sub(number, sql), tuple(names))
