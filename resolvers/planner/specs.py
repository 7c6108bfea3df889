"""The kinds of field the planner writes (``Leaf``, ``Same``, ``Child``, ``Children``, ``Page``, ``ById``), and the
leaves most fields are: a column as text, number, date, money in the row's currency, a global id."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, literal_column

from core.scope import (
    Scope,
)
from resolvers.planner.sqljson import (
    date_of,
    datetime_of,
    global_id_text,
    money,
    precision,
    raw_of,
    text_of,
    trimmed,
)

Row = Any  # a FROM clause (alias) whose ``.c`` holds the row's columns


@dataclass(frozen=True, slots=True)
class Leaf:
    json: Callable[[Row, Scope], Any]
    staff_only: bool = False  # ``schema.base.staff_only``: null (or ``empty``) for portal viewers
    empty: str = "null"


@dataclass(frozen=True, slots=True)
class Same:
    """An object made of the same row (or of a part of it, ``row``: e.g. a JSONB column's keys)."""

    type_name: str
    row: Callable[[Row], Row] = field(default=lambda row: row)


class JsonbKeys:
    """A JSONB column seen as a row whose columns are its keys (``->>``): an address."""

    def __init__(self, column: Any) -> None:
        self.column = column
        self.c = self

    def __getitem__(self, key: str) -> Any:
        return self.column.op("->>")(key)


@dataclass(frozen=True, slots=True)
class Child:
    type_name: str
    rows: Callable[[Scope, Row], Select[Any]]  # at most one row, correlated to the parent
    nullable: bool = True


@dataclass(frozen=True, slots=True)
class Children:
    type_name: str
    rows: Callable[[Scope, Row], Select[Any]]
    order: Callable[[Row], list[Any]]


@dataclass(frozen=True, slots=True)
class Page:
    """A connection of ``type_name`` nodes ordered by ``key`` (``(column, cursor kind)``), as ``paginate`` does."""

    type_name: str
    rows: Callable[[Scope, Row | None], Select[Any]]
    key: tuple[tuple[str, str], ...]
    descending: bool


@dataclass(frozen=True, slots=True)
class ById:
    """A root field ``x(id: ID!)``: the object with that global id in the viewer's scope, or null."""

    type_name: str
    rows: Callable[[Scope], Select[Any]]


Spec = Leaf | Same | Child | Children | Page | ById


def camel(name: str) -> str:
    first, *rest = name.split("_")
    return first + "".join(part.title() for part in rest)


def _text(name: str) -> Leaf:
    return Leaf(lambda r, _: text_of(r.c[name]))


def _raw(name: str) -> Leaf:
    return Leaf(lambda r, _: raw_of(r.c[name]))


def _date(name: str) -> Leaf:
    return Leaf(lambda r, _: date_of(r.c[name]))


def _datetime(name: str) -> Leaf:
    return Leaf(lambda r, _: datetime_of(r.c[name]))


def _money(name: str) -> Leaf:
    return Leaf(lambda r, _: money(r.c[name], r.c["digits"]))


def _trimmed(name: str) -> Leaf:
    return Leaf(lambda r, _: trimmed(r.c[name]))


def _id(type_name: str) -> Leaf:
    return Leaf(lambda r, _: text_of(global_id_text(type_name, r.c["id"])))


def digits_of(table: Any) -> Any:
    """The minor-unit decimals of the row's currency, computed once per row (money leaves read ``digits``)."""
    return precision(table.c.currency).label("digits")


class View:
    """Some of a row's columns under other names (an object of the dashboard made of a few of its figures)."""

    def __init__(self, row: Row, names: dict[str, Any]) -> None:
        self.row = row
        self.names = names
        self.froms = row.froms
        self.c = self

    def __getitem__(self, name: str) -> Any:
        given = self.names.get(name, name)
        return given if not isinstance(given, str) else self.row.c[given]


def json_list(values: tuple[Any, ...]) -> Any:
    """A constant JSON array of enum values (the filters a dashboard figure hands out)."""
    text = "[" + ",".join(f'"{value}"' for value in values) + "]"
    return literal_column(f"'{text}'::json")
