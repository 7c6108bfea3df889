"""Money arithmetic and the document totals rule.

Rounding rule (documented in the README and tested):
1. a line's ``amount`` = quantity × rate × (1 − discount% / 100), rounded half-up to the currency's minor unit;
2. a line's ``tax_amount`` = amount × tax% / 100, rounded half-up to the minor unit (per line, not per document);
3. ``subtotal`` = Σ amounts, ``tax_total`` = Σ tax amounts, ``total`` = subtotal + tax_total (no further rounding).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from babel.numbers import get_currency_precision

HUNDRED = Decimal(100)


@lru_cache(maxsize=64)
def minor_unit(currency: str) -> Decimal:
    """The smallest amount of ``currency``: 0.01 for USD, 1 for JPY, 0.001 for KWD."""
    return Decimal(1).scaleb(-get_currency_precision(currency))


def quantize(amount: Decimal, currency: str) -> Decimal:
    return amount.quantize(minor_unit(currency), rounding=ROUND_HALF_UP)


def is_known_currency(code: str) -> bool:
    from babel.numbers import UnknownCurrencyError, get_currency_name

    try:
        return len(code) == 3 and code.isupper() and get_currency_name(code, locale="en") != code
    except UnknownCurrencyError:
        return False


@dataclass(frozen=True, slots=True)
class LineInput:
    quantity: Decimal
    rate: Decimal
    discount_percent: Decimal = Decimal(0)
    tax_percent: Decimal = Decimal(0)


@dataclass(frozen=True, slots=True)
class LineTotals:
    amount: Decimal
    tax_amount: Decimal


@dataclass(frozen=True, slots=True)
class DocumentTotals:
    lines: tuple[LineTotals, ...]
    subtotal: Decimal
    tax_total: Decimal
    total: Decimal


def compute_totals(lines: list[LineInput], currency: str) -> DocumentTotals:
    """Apply the rounding rule above to a document's lines."""
    computed = []
    for line in lines:
        gross = line.quantity * line.rate
        amount = quantize(gross * (HUNDRED - line.discount_percent) / HUNDRED, currency)
        tax_amount = quantize(amount * line.tax_percent / HUNDRED, currency)
        computed.append(LineTotals(amount=amount, tax_amount=tax_amount))
    subtotal = sum((line.amount for line in computed), Decimal(0))
    tax_total = sum((line.tax_amount for line in computed), Decimal(0))
    zero = quantize(Decimal(0), currency)
    return DocumentTotals(
        lines=tuple(computed), subtotal=subtotal + zero, tax_total=tax_total + zero, total=subtotal + tax_total + zero
    )


def trim(value: Decimal) -> Decimal:
    """Drop insignificant trailing zeros (``2.5000`` → ``2.5``, ``10.00`` → ``10``) without exponent notation."""
    normalized = value.normalize()
    return normalized.quantize(Decimal(1)) if normalized.as_tuple().exponent > 0 else normalized  # type: ignore[operator]
