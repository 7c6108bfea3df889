"""Writing line items and totals of estimates and invoices."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from sqlalchemy import delete, insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.money import DocumentTotals, LineInput, compute_totals
from core.scope import T_LINE_ITEM


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
