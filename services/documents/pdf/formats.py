"""Babel formatting in the organization's locale and the document's currency, addresses and file names."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.numbers import format_currency, format_decimal, format_percent
from reportlab.lib.pagesizes import A4, LETTER

from core.money import quantize, trim


@dataclass(frozen=True, slots=True)
class Formats:
    """Babel formatting for one document: the organization's locale, the document's currency."""

    locale: str
    currency: str

    @staticmethod
    def for_(locale: str | None, currency: str) -> Formats:
        try:
            Locale.parse(locale or "en_US")
        except (UnknownLocaleError, ValueError, TypeError):
            locale = "en_US"
        return Formats(locale or "en_US", currency)

    def money(self, amount: Decimal) -> str:
        return format_currency(quantize(amount, self.currency), self.currency, locale=self.locale)

    def number(self, value: Decimal) -> str:
        return format_decimal(trim(value), locale=self.locale, decimal_quantization=False)

    def percent(self, value: Decimal) -> str:
        return format_percent(trim(value) / 100, locale=self.locale, decimal_quantization=False)

    def date(self, value: dt.date | dt.datetime | None) -> str:
        if value is None:
            return ""
        return format_date(value.date() if isinstance(value, dt.datetime) else value, "medium", locale=self.locale)

    def page_size(self) -> tuple[float, float]:
        territory = Locale.parse(self.locale).territory
        return LETTER if territory in {"US", "CA", "MX", "PH", "CL", "CO", "VE"} else A4


def address_lines(address: dict[str, Any] | None) -> list[str]:
    """A postal address as printable lines, empty parts left out."""
    data = address or {}
    city_line = " ".join(part for part in (data.get("zip"), data.get("city")) if part)
    if data.get("state"):
        city_line = f"{city_line}, {data['state']}" if city_line else str(data["state"])
    parts = [data.get("attention"), data.get("street1"), data.get("street2"), city_line, data.get("country")]
    return [str(part) for part in parts if part]


def pdf_filename(stem: str) -> str:
    """A safe file name: ``INV-000012`` → ``INV-000012.pdf``."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", stem).strip("._") or "document"
    return f"{cleaned[:100]}.pdf"
