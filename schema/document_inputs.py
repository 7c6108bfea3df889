"""Inputs shared by the estimate and invoice mutations."""

from __future__ import annotations

from decimal import Decimal

import strawberry


@strawberry.input(description="A line of an estimate or invoice as entered by staff; amounts are computed.")
class LineItemInput:
    name: str = strawberry.field(description="What is sold; at most 200 characters.")
    quantity: Decimal = strawberry.field(description="Greater than 0, at most 4 decimals.")
    rate: Decimal = strawberry.field(description="Unit price, with no more decimals than the currency has.")
    description: str | None = None
    discount_percent: Decimal | None = strawberry.field(default=None, description="0–100, at most 4 decimals.")
    tax_name: str | None = None
    tax_percent: Decimal | None = strawberry.field(default=None, description="0–100, at most 4 decimals.")
