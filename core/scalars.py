"""Custom scalar definitions: one canonical input form each, and the same output as Strawberry's built-ins.

``Decimal`` (money, quantities, percentages) is read from a JSON string of ASCII digits with an optional leading
minus and an optional fractional part: ``"12"``, ``"-0.5"``, ``"19.99"``. Strawberry's built-in scalar runs
``Decimal(str(value))``, which also takes JSON numbers (``19.99`` arrives as a float), surrounding spaces, other
scripts' digits, ``"1_0"``, ``"+5"``, exponents (``"1e3"``), ``"NaN"`` and ``"Infinity"``; each spelling is a way
past a rule that compares strings, and a float has already lost the amount. Anything else is a request error with
``extensions.code = BAD_USER_INPUT``, from variables and literals alike. Output is unchanged: ``str(value)``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from decimal import Decimal
from typing import Any

from graphql import GraphQLError, StringValueNode, ValueNode
from strawberry.schema.types.base_scalars import DateDefinition, DateTimeDefinition
from strawberry.types.scalar import ScalarDefinition

from core.errors import TopLevelCode

# no exponent: "1e3" is a valid JSON number but a surprising amount, and nothing in the domain needs one
DECIMAL_PATTERN = re.compile(r"-?[0-9]+(\.[0-9]+)?")
MAX_DECIMAL_LENGTH = 100  # far beyond NUMERIC columns; a bound on the work a value costs


def _not_a_decimal(node: ValueNode | None = None) -> GraphQLError:
    return GraphQLError(
        'A Decimal is a string of ASCII digits with an optional leading "-" and fractional part, e.g. "-12.50".',
        nodes=node,
        extensions={"code": TopLevelCode.BAD_USER_INPUT.value},
    )


def parse_decimal(value: Any) -> Decimal:
    """A variable's value as a Decimal; only the canonical string form is accepted."""
    if not isinstance(value, str) or len(value) > MAX_DECIMAL_LENGTH or not DECIMAL_PATTERN.fullmatch(value):
        raise _not_a_decimal()
    return Decimal(value)


def parse_decimal_literal(node: ValueNode, variables: dict[str, Any] | None = None) -> Decimal:
    """A literal in the document as a Decimal: a string literal in the canonical form (never an Int or Float)."""
    if not isinstance(node, StringValueNode):
        raise _not_a_decimal(node)
    try:
        return parse_decimal(node.value)
    except GraphQLError:
        raise _not_a_decimal(node) from None


DecimalScalar = ScalarDefinition(
    name="Decimal",
    description=(
        'A fixed-point number as a string: ASCII digits, an optional leading "-" and fractional part ("12", '
        '"-0.5", "19.99"; never a JSON number). Money has its currency\'s digits ("2.00"); docs/scalars.md.'
    ),
    specified_by_url="https://www.w3.org/TR/xmlschema11-2/#decimal",
    serialize=str,
    parse_value=parse_decimal,
    parse_literal=parse_decimal_literal,
    origin=Decimal,
)


# Strawberry's own Date and DateTime, described and with @specifiedBy (RFC 3339: what isoformat writes)
DateScalar = dataclasses.replace(
    DateDefinition,
    description='A calendar date, RFC 3339 full-date: "2026-12-01" (docs/scalars.md).',
    specified_by_url="https://www.rfc-editor.org/rfc/rfc3339#section-5.6",
)
DateTimeScalar = dataclasses.replace(
    DateTimeDefinition,
    description='An instant, RFC 3339 date-time with its offset: "2026-12-01T19:51:28.123456+00:00" (docs/scalars.md).',
    specified_by_url="https://www.rfc-editor.org/rfc/rfc3339#section-5.6",
)
SCALAR_OVERRIDES: dict[object, ScalarDefinition] = {
    Decimal: DecimalScalar,
    dt.date: DateScalar,
    dt.datetime: DateTimeScalar,
}
