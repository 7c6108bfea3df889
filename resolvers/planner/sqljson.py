"""SQL that writes the JSON normal execution writes (orjson over Strawberry's scalars), in PostgreSQL.

A planned statement builds the response body with ``json_build_object`` and ``json_agg`` (keys in selection order),
so Python sends the text as it comes, with no decoding and encoding again; it differs from orjson's bytes only in
the spaces PostgreSQL puts after separators. The value formats follow the scalars: money quantized to its currency's
minor unit and written as a string, quantities without insignificant zeros, dates ``YYYY-MM-DD``, date-times as
Python's ``isoformat()`` writes them (microseconds only when there are some), global ids and cursors in base64url
without padding.
"""

from __future__ import annotations

from typing import Any

from babel.numbers import get_currency_precision, list_currencies
from sqlalchemy import Text, case, cast, extract, func, literal, literal_column, null
from sqlalchemy.dialects.postgresql import aggregate_order_by

# the currencies whose minor unit is not a hundredth, by their number of decimals (one IN list each: a CASE per
# currency made every money field a hundred branches of planning)
_ODD_PRECISIONS: dict[int, list[str]] = {}
for _code in sorted(list_currencies()):
    if (_digits := get_currency_precision(_code)) != 2:
        _ODD_PRECISIONS.setdefault(_digits, []).append(_code)
NULL = null()
EMPTY_LIST = literal_column("'[]'::json")


def precision(currency: Any) -> Any:
    """The number of decimals of ``currency`` (``core.money.minor_unit``), as SQL."""
    return case(*((currency.in_(codes), digits) for digits, codes in sorted(_ODD_PRECISIONS.items())), else_=2)


def text_of(value: Any) -> Any:
    """A text value (a JSON string, or null)."""
    return value


def raw_of(value: Any) -> Any:
    """A number or boolean (or null)."""
    return value


def money(value: Any, digits: Any) -> Any:
    """``quantize(value, currency)`` given the currency's ``precision`` (half-up, as ``round``), as a JSON string."""
    return cast(func.round(value, digits), Text)


def trimmed(value: Any) -> Any:
    """``core.money.trim``: the number without insignificant zeros, as a JSON string."""
    return cast(func.trim_scale(value), Text)


def b64url(text: Any) -> Any:
    """Base64url without padding, as ``core.ids`` and the cursors encode."""
    encoded = func.encode(func.convert_to(text, "UTF8"), "base64")
    return func.rtrim(func.translate(func.replace(encoded, "\n", ""), "+/", "-_"), "=")


def global_id_text(type_name: str, pk: Any) -> Any:
    """``core.ids.to_global_id``."""
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
    return iso_datetime_text(value)  # (to_char of NULL is NULL)


def date_of(value: Any) -> Any:
    return value  # json_build_object writes a date as YYYY-MM-DD


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
    return b64url(func.concat(*parts))


MAX_PAIRS = 50  # json_build_object takes at most 100 arguments


def json_object(pairs: list[tuple[str, Any]]) -> Any:
    """A JSON object of ``(response key, value)`` pairs, in order (PostgreSQL writes it: C, not Python)."""
    if len(pairs) > MAX_PAIRS:
        raise ValueError("too many fields")
    return func.json_build_object(*(item for key, value in pairs for item in (literal(key), value)))


def json_array(element: Any, *order_by: Any) -> Any:
    """An aggregate: the JSON array of ``element`` in ``order_by`` order; ``[]`` when there are none."""
    return func.coalesce(func.json_agg(aggregate_order_by(element, *order_by)), EMPTY_LIST)
