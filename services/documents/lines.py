"""Writing line items and totals of estimates and invoices."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal, Protocol

from sqlalchemy import delete, func, insert
from sqlalchemy.ext.asyncio import AsyncSession

from core import validation
from core.errors import DomainError
from core.money import HUNDRED, DocumentTotals, LineInput, compute_totals, minor_unit, quantize
from core.scope import T_CONTACT, T_LINE_ITEM, Scope


@dataclass(frozen=True, slots=True)
class LineDraft:
    """A validated line as entered by staff."""

    name: str
    quantity: Decimal
    rate: Decimal
    description: str | None = None
    discount_percent: Decimal = Decimal(0)
    tax_name: str | None = None
    tax_percent: Decimal = Decimal(0)


async def replace_line_items(
    session: AsyncSession,
    *,
    organization_id: int,
    owner: Literal["estimate", "invoice"],
    owner_id: int,
    lines: list[LineDraft],
    currency: str,
) -> DocumentTotals:
    """Replace a document's lines (inside the caller's transaction) and return the totals to store."""
    column = T_LINE_ITEM.c.estimate_id if owner == "estimate" else T_LINE_ITEM.c.invoice_id
    totals = compute_totals(
        [LineInput(line.quantity, line.rate, line.discount_percent, line.tax_percent) for line in lines], currency
    )
    await session.execute(delete(T_LINE_ITEM).where(column == owner_id))
    if lines:
        await session.execute(
            insert(T_LINE_ITEM),
            [
                {
                    "organization_id": organization_id,
                    f"{owner}_id": owner_id,
                    "position": position,
                    "name": line.name,
                    "description": line.description,
                    "quantity": line.quantity,
                    "rate": line.rate,
                    "discount_percent": line.discount_percent,
                    "tax_name": line.tax_name,
                    "tax_percent": line.tax_percent,
                    "amount": computed.amount,
                    "tax_amount": computed.tax_amount,
                }
                for position, (line, computed) in enumerate(zip(lines, totals.lines, strict=True), start=1)
            ],
        )
    return totals


MAX_LINES = 200


# MONEY is NUMERIC(20, 4): 16 integer digits; keep every stored amount well inside it
MAX_AMOUNT = Decimal("1e15") - 1


MAX_QUANTITY = Decimal("1e10") - 1  # QUANTITY is NUMERIC(14, 4)


HEADER_TEXT_LIMITS = {"reference": 100, "notes": 5000, "terms": 5000}


class LineLike(Protocol):
    name: str
    description: str | None
    quantity: Decimal
    rate: Decimal
    discount_percent: Decimal | None
    tax_name: str | None
    tax_percent: Decimal | None


def today() -> dt.date:
    """Today's date in UTC, the time zone the derived statuses (EXPIRED, OVERDUE) are computed in."""
    return dt.datetime.now(dt.UTC).date()


def _places(number: Decimal) -> int:
    exponent = number.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def money_amount(value: Decimal, currency: str, field: str, *, positive: bool = True) -> Decimal:
    """``value`` as an amount of ``currency``; more decimals than the currency has is refused, not rounded."""
    number = validation.decimal(value, field, minimum=Decimal(0), exclusive_minimum=positive, maximum=MAX_AMOUNT)
    if _places(number) > _places(minor_unit(currency)):
        raise DomainError("INVALID_INPUT", f"{field} has more decimals than {currency} allows.", field)
    return quantize(number, currency)


def _fraction(value: Decimal | None, field: str, *, maximum: Decimal, positive: bool = False) -> Decimal:
    number = validation.decimal(
        value if value is not None else Decimal(0),
        field,
        minimum=Decimal(0),
        exclusive_minimum=positive,
        maximum=maximum,
    )
    if _places(number) > 4:
        raise DomainError("INVALID_INPUT", f"{field} takes at most 4 decimals.", field)
    return number


def clean_lines(lines: Sequence[LineLike], currency: str, field: str = "lineItems") -> list[LineDraft]:
    """Validate staff-entered lines for a document in ``currency``; the resulting total must fit."""
    if len(lines) > MAX_LINES:
        raise DomainError("INVALID_INPUT", f"A document takes at most {MAX_LINES} lines.", field)
    drafts = []
    for index, line in enumerate(lines):
        at = f"{field}[{index}]"
        drafts.append(
            LineDraft(
                name=validation.required_text(line.name, f"{at}.name", max_length=200),
                description=validation.text(line.description, f"{at}.description", max_length=5000),
                quantity=_fraction(line.quantity, f"{at}.quantity", maximum=MAX_QUANTITY, positive=True),
                rate=money_amount(line.rate, currency, f"{at}.rate", positive=False),
                discount_percent=_fraction(line.discount_percent, f"{at}.discountPercent", maximum=HUNDRED),
                tax_name=validation.text(line.tax_name, f"{at}.taxName", max_length=50),
                tax_percent=_fraction(line.tax_percent, f"{at}.taxPercent", maximum=HUNDRED),
            )
        )
    totals = compute_totals(
        [LineInput(line.quantity, line.rate, line.discount_percent, line.tax_percent) for line in drafts], currency
    )
    if totals.total > MAX_AMOUNT or any(line.amount > MAX_AMOUNT for line in totals.lines):
        raise DomainError("INVALID_INPUT", "The document's total is too large.", field)
    return drafts


def clean_header(given: dict[str, Any], *, end_date: Literal["expiry_date", "due_date"]) -> dict[str, Any]:
    """Column values from the header fields a create or update input sets (fields left out are not in ``given``).

    Text fields set to null or blank are cleared; ``issue_date`` cannot be cleared; the end date can.
    """
    values: dict[str, Any] = {}
    for name, limit in HEADER_TEXT_LIMITS.items():
        if name in given:
            values[name] = validation.text(given[name], name, max_length=limit)
    if "issue_date" in given:
        if given["issue_date"] is None:
            raise DomainError("INVALID_INPUT", "issueDate cannot be cleared.", "issueDate")
        values["issue_date"] = given["issue_date"]
    if end_date in given:
        values[end_date] = given[end_date]
    return values


def check_dates(issue_date: dt.date, end_date: dt.date | None, field: str) -> None:
    """An expiry or due date may not come before the issue date."""
    if end_date is not None and end_date < issue_date:
        raise DomainError("INVALID_INPUT", f"{field} comes before the issue date.", field)


async def lock_contact(session: AsyncSession, scope: Scope, contact_id: int, field: str = "contactId") -> Any:
    """The contact row, share-locked so its currency cannot change under a document being written."""
    row = (await session.execute(scope.where_id(T_CONTACT, contact_id).with_for_update(read=True))).one_or_none()
    if row is None:
        raise DomainError("NOT_FOUND", "No contact with this id.", field)
    return row


async def count_lines(
    session: AsyncSession, scope: Scope, *, owner: Literal["estimate", "invoice"], owner_id: int
) -> int:
    """How many lines a document has."""
    column = T_LINE_ITEM.c.estimate_id if owner == "estimate" else T_LINE_ITEM.c.invoice_id
    return int(await session.scalar(scope.select(T_LINE_ITEM, func.count()).where(column == owner_id)) or 0)
