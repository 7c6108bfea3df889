"""Turning filter inputs into WHERE conditions."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, false, or_

from core.ids import decode_id
from schema.base import DateRange


def like_pattern(text: str) -> str:
    escaped = text.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search(text: str | None, *columns: Any) -> list[ColumnElement[bool]]:
    if not text or not text.strip():
        return []
    pattern = like_pattern(text)
    return [or_(*(column.ilike(pattern, escape="\\") for column in columns))]


def date_range(value: DateRange | None, column: Any) -> list[ColumnElement[bool]]:
    if value is None:
        return []
    conditions = []
    if value.from_ is not None:
        conditions.append(column >= value.from_)
    if value.to is not None:
        conditions.append(column <= value.to)
    return conditions


def one_of(values: list[Any] | None, column: Any) -> list[ColumnElement[bool]]:
    if values is None:
        return []
    return [column.in_([getattr(v, "value", v) for v in values])]


def contact(global_id: str | None, column: Any) -> list[ColumnElement[bool]]:
    if global_id is None:
        return []
    pk = decode_id(global_id, "Contact")
    return [column == pk] if pk is not None else [false()]
