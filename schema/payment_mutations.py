"""Inputs, errors and result of ``recordPayment`` (staff: money received outside the gateways)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import Enum
from typing import Annotated

import strawberry

from schema.base import UserError
from schema.payment import Payment
from services.receipts import KEY_DESCRIPTION


@strawberry.enum(description="Payment modes staff record by hand; CARD and ACH payments come from the gateways.")
class ManualPaymentMode(Enum):
    CASH = "CASH"
    CHECK = "CHECK"
    BANK_TRANSFER = "BANK_TRANSFER"
    OTHER = "OTHER"


@strawberry.input(description="The part of a payment applied to one invoice.")
class PaymentAllocationInput:
    invoice_id: strawberry.ID
    amount: Decimal = strawberry.field(description="Greater than 0 and at most the invoice's balance due.")


@strawberry.input(description="Money received from a contact, split over some of its SENT or PARTIALLY_PAID invoices.")
class RecordPaymentInput:
    contact_id: strawberry.ID
    amount: Decimal = strawberry.field(
        description="In the contact's currency (no more decimals than it has); equals the sum of the allocations."
    )
    mode: ManualPaymentMode
    allocations: list[PaymentAllocationInput] = strawberry.field(description="One entry per invoice, at least one.")
    payment_date: dt.date | None = strawberry.field(default=None, description="Defaults to today (UTC).")
    reference: str | None = strawberry.field(default=None, description="Check number, bank reference, …")
    notes: str | None = None
    idempotency_key: str | None = strawberry.field(default=None, description=KEY_DESCRIPTION)


@strawberry.enum
class RecordPaymentErrorCode(Enum):
    NOT_FOUND = "NOT_FOUND"
    INVALID_INPUT = "INVALID_INPUT"
    INVALID_STATE = "INVALID_STATE"
    EXCEEDS_BALANCE = "EXCEEDS_BALANCE"
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"


@strawberry.type
class RecordPaymentError(UserError):
    code: RecordPaymentErrorCode


RecordPaymentResult = Annotated[Payment | RecordPaymentError, strawberry.union("RecordPaymentResult")]
