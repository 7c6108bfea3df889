"""SQL that writes JSON text exactly as normal execution serializes it (orjson over Strawberry's scalars).

A planned statement builds the response body in PostgreSQL by concatenating JSON text — compact, keys in selection
order — so Python sends the text as it comes, with no decoding and encoding again. The value formats follow the
scalars: money quantized to its currency's minor unit and written as a string, quantities without insignificant
zeros, dates ``YYYY-MM-DD``, date-times as Python's ``isoformat()`` writes them (microseconds only when there are
some), global ids and cursors in base64url without padding.
"""

from __future__ import annotations

from typing import Any

from babel.numbers import get_currency_precision, list_currencies
from sqlalchemy import Text, case, cast, extract, func, literal
from sqlalchemy.dialects.postgresql import aggregate_order_by

_ODD_PRECISIONS = {code: get_currency_precision(code) for code in list_currencies()}
_ODD_PRECISIONS = {code: digits for code, digits in _ODD_PRECISIONS.items() if digits != 2}
NULL = literal("null")


def precision(currency: Any) -> Any:
    """The number of decimals of ``currency`` (``core.money.minor_unit``), as SQL."""
    return case(*((currency == code, digits) for code, digits in _ODD_PRECISIONS.items()), else_=2)


def text_of(value: Any) -> Any:
    """A JSON string (or ``null``) of a text expression."""
    return func.coalesce(cast(func.to_json(value), Text), NULL)


def raw_of(value: Any) -> Any:
    """A JSON number or boolean (or ``null``): the expression's own text."""
    return func.coalesce(cast(value, Text), NULL)


def money(value: Any, currency: Any) -> Any:
    """``quantize(value, currency)`` (half-up, as ``round`` does), as a JSON string."""
    return text_of(cast(func.round(value, precision(currency)), Text))


def trimmed(value: Any) -> Any:
    """``core.money.trim``: the number without insignificant zeros, as a JSON string."""
    return text_of(cast(func.trim_scale(value), Text))


def b64url(text: Any) -> Any:
    """Base64url without padding, as ``core.ids`` and the cursors encode."""
    encoded = func.encode(func.convert_to(text, "UTF8"), "base64")
    return func.rtrim(func.translate(func.replace(encoded, "\n", ""), "+/", "-_"), "=")


def global_id_text(type_name: str, pk: Any) -> Any:
    """``core.ids.to_global_id`` (text, not yet JSON)."""
    return b64url(literal(f"{type_name}:") + cast(pk, Text))


_ISO_SECONDS = 'YYYY-MM-DD"T"HH24:MI:SS'


def iso_datetime_text(value: Any) -> Any:
    """``datetime.isoformat()`` of a ``timestamptz`` in UTC (the database and asyncpg both work in UTC)."""
    utc = func.timezone("UTC", value)
    return case(
        (extract("microseconds", value) % 1000000 == 0, func.to_char(utc, _ISO_SECONDS + '"+00:00"')),
        else_=func.to_char(utc, _ISO_SECONDS + '.US"+00:00"'),
    )


def datetime_of(value: Any) -> Any:
    return text_of(iso_datetime_text(value))


def date_of(value: Any) -> Any:
    return text_of(func.to_char(value, "YYYY-MM-DD"))


def cursor_text(values: list[tuple[Any, str]]) -> Any:
    """``resolvers.pagination.encode_cursor`` of ``(expression, kind)`` pairs: kind ``date``, ``datetime``, ``int``."""
    parts: list[Any] = [literal("[")]
    for index, (value, kind) in enumerate(values):
        if index:
            parts.append(literal(","))
        if kind == "date":
            parts += [literal('"'), func.to_char(value, "YYYY-MM-DD"), literal('"')]
        elif kind == "datetime":
            parts += [literal('"'), iso_datetime_text(value), literal('"')]
        elif kind == "int":
            parts.append(cast(value, Text))
        else:
            raise ValueError(kind)
    parts.append(literal("]"))
    return b64url(concat(parts))


def concat(parts: list[Any]) -> Any:
    """``concat(…)`` of any number of parts (PostgreSQL functions take at most 100 arguments)."""
    while len(parts) > 90:
        parts = [func.concat(*parts[i : i + 90]) for i in range(0, len(parts), 90)]
    return func.concat(*parts)


def json_object(pairs: list[tuple[str, Any]]) -> Any:
    """``{"key":value,…}`` from ``(response key, JSON text expression)`` pairs, in order."""
    if not pairs:
        return literal("{}")
    parts: list[Any] = []
    for index, (key, value) in enumerate(pairs):
        parts.append(literal(('{"' if index == 0 else ',"') + key + '":'))
        parts.append(value)
    parts.append(literal("}"))
    return concat(parts)


def json_array(element: Any, *order_by: Any) -> Any:
    """An aggregate: ``[e1,e2,…]`` of the JSON texts ``element`` in ``order_by`` order; ``[]`` when none."""
    joined = func.string_agg(element, aggregate_order_by(literal(","), *order_by))
    return func.concat(literal("["), func.coalesce(joined, ""), literal("]"))
