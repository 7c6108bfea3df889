"""Keyset pagination for Relay connections."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import orjson
from sqlalchemy import ColumnElement, Select, func, select, tuple_

from core.database import Database
from core.errors import TopLevelCode, top_level_error
from schema.base import DEFAULT_PAGE, MAX_PAGE, Connection, Edge, PageInfo

N = TypeVar("N")

BIGINT_MIN, BIGINT_MAX = -(2**63), 2**63 - 1
CURSOR_KINDS = (int, str, dt.date, dt.datetime)


def _encode_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value


def encode_cursor(values: Sequence[Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps([_encode_value(v) for v in values])).decode().rstrip("=")


def _decode_value(kind: type, raw: Any) -> Any:
    """``raw`` as a value of ``kind``, accepted only in the form ``encode_cursor`` writes; ValueError otherwise."""
    if kind is int:
        # a JSON integer (not true, 1.0 or "1") that PostgreSQL's BIGINT holds
        if type(raw) is not int or not BIGINT_MIN <= raw <= BIGINT_MAX:
            raise ValueError
        return raw
    if type(raw) is not str or "\x00" in raw:  # PostgreSQL text holds no NUL
        raise ValueError
    if kind is str:
        return raw
    value = kind.fromisoformat(raw)  # type: ignore[attr-defined]
    if value.isoformat() != raw:  # fromisoformat also reads "20260101", week dates, …
        raise ValueError
    if kind is dt.datetime and value.tzinfo is None:  # keys are timestamptz: their cursors carry the offset
        raise ValueError
    return value


def decode_cursor(cursor: str, kinds: Sequence[type]) -> list[Any]:
    """The values of an ``after`` cursor, each of exactly its kind; BAD_USER_INPUT (field "after") otherwise.

    Everything reaches SQL as a bind parameter of the key's column type, so a value PostgreSQL would refuse (an
    integer beyond BIGINT, a NUL in text) is refused here, before it becomes an internal error.
    """
    unknown = [kind for kind in kinds if kind not in CURSOR_KINDS]
    if unknown:
        raise TypeError(f"no cursor rule for {unknown}")
    try:
        if not isinstance(cursor, str):
            raise ValueError
        # validate=True: only the base64url alphabet, so one cursor has one spelling
        raw = orjson.loads(base64.b64decode(cursor + "=" * (-len(cursor) % 4), altchars=b"-_", validate=True))
        if not isinstance(raw, list) or len(raw) != len(kinds):
            raise ValueError
        return [_decode_value(kind, value) for kind, value in zip(kinds, raw, strict=True)]
    except (ValueError, binascii.Error, orjson.JSONDecodeError):
        raise top_level_error(TopLevelCode.BAD_USER_INPUT, "The `after` cursor is not valid.", field="after") from None


def page_size(first: int | None, name: str = "first") -> int:
    if first is None:
        return DEFAULT_PAGE
    if first < 0 or first > MAX_PAGE:
        raise top_level_error(TopLevelCode.BAD_USER_INPUT, f"`{name}` must be between 0 and {MAX_PAGE}.", field=name)
    return first


@dataclass(frozen=True, slots=True)
class Paging:
    """A connection's paging arguments: forwards (``first`` after a cursor) or backwards (``last`` before one)."""

    first: int | None = None
    after: str | None = None
    last: int | None = None
    before: str | None = None

    @property
    def backwards(self) -> bool:
        if (self.last is not None or self.before is not None) and (self.first is not None or self.after is not None):
            raise top_level_error(
                TopLevelCode.BAD_USER_INPUT,
                "Page with `first`/`after` or with `last`/`before`, not both.",
                field="last",
            )
        return self.last is not None or self.before is not None


async def paginate(
    db: Database,
    stmt: Select[Any],
    *,
    order: Sequence[ColumnElement[Any]],
    descending: bool,
    paging: Paging,
    to_node: Callable[[Any], N],
    kinds: Sequence[type] | None = None,
) -> Connection[N]:
    """One page of ``stmt`` ordered by the unique key ``order``; ``stmt`` already carries scope and filter. A cursor
    holds a value of each key column, of the column's Python type (``kinds``, when given, says otherwise). Backwards
    (``last``/``before``), the rows are read in the opposite order from the cursor and handed back in list order."""
    backwards = paging.backwards
    limit = page_size(paging.last, "last") if backwards else page_size(paging.first)
    cursor = paging.before if backwards else paging.after
    reverse = descending != backwards  # (the direction rows are read in)
    page_stmt = stmt
    if cursor:
        key = tuple_(*order)
        values = tuple_(*decode_cursor(cursor, kinds or [column.type.python_type for column in order]))
        page_stmt = page_stmt.where(key < values if reverse else key > values)
    page_stmt = page_stmt.order_by(*(c.desc() if reverse else c.asc() for c in order)).limit(limit + 1)
    async with db.session() as session:
        rows = (await session.execute(page_stmt)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    if backwards:
        rows.reverse()
    names = [c.key for c in order]
    edges = [Edge(node=to_node(row), cursor=encode_cursor([getattr(row, n) for n in names])) for row in rows]

    async def count() -> int:
        async with db.session() as session:
            return int(await session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0)

    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=paging.before is not None if backwards else more,
            has_previous_page=more if backwards else paging.after is not None,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
        count=count,
    )


async def newest_first(
    db: Database,
    stmt: Select[Any],
    key: Sequence[ColumnElement[Any]],
    paging: Paging,
    to_node: Callable[[Any], N],
) -> Connection[N]:
    """A page of ``stmt`` by ``key`` descending, newest first (the key ends with the id, which breaks ties)."""
    return await paginate(db, stmt, order=key, descending=True, paging=paging, to_node=to_node)
