"""Inputs, errors and results of payInvoices, removeSavedPaymentMethod and recordPayment."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import Enum
from typing import Annotated

import strawberry

from schema.base import UserError
from schema.payments.enums import PaymentMethodType
from schema.payments.types import Payment, PaymentAttempt, SavedPaymentMethod
from services.receipts import KEY_DESCRIPTION


@strawberry.input(description="Exactly one of savedPaymentMethodId and stripePaymentMethodId (none for SIMULATED).")
class PaymentMethodInput:
    type: PaymentMethodType
    saved_payment_method_id: strawberry.ID | None = strawberry.field(
        default=None, description="One of the viewer's savedPaymentMethods, of the same type."
    )
    stripe_payment_method_id: str | None = strawberry.field(
        default=None, description="A PaymentMethod created by Stripe.js (pm_…); card numbers never reach Portico."
    )


@strawberry.input(description='Pay one invoice, or several of one currency in one charge ("pay all outstanding").')
class PayInvoicesInput:
    invoice_ids: list[strawberry.ID] = strawberry.field(description="1 to 100 of the viewer's payable invoices.")
    method: PaymentMethodInput
    idempotency_key: str = strawberry.field(
        description=(
            "Chosen by the client, one per intended payment (a UUID). Sending it again returns the same attempt "
            "and never charges twice; reusing it for a different payment is IDEMPOTENCY_KEY_REUSED."
        )
    )
    amount: Decimal | None = strawberry.field(
        default=None,
        description="A partial payment, one invoice only; default: the balance due of each invoice.",
    )
    save_payment_method: bool | None = strawberry.field(
        default=False, description="Keep the card or bank account (at Stripe) for later payments."
    )


@strawberry.enum
class PayInvoicesErrorCode(Enum):
    NOT_FOUND = "NOT_FOUND"
    INVALID_INPUT = "INVALID_INPUT"
    ALREADY_PAID = "ALREADY_PAID"
    INVALID_STATE = "INVALID_STATE"
    EXCEEDS_BALANCE = "EXCEEDS_BALANCE"
    CURRENCY_MISMATCH = "CURRENCY_MISMATCH"
    GATEWAY_NOT_ALLOWED = strawberry.enum_value(
        "GATEWAY_NOT_ALLOWED", description="An invoice does not accept this payment method type."
    )
    GATEWAY_NOT_CONFIGURED = strawberry.enum_value(
        "GATEWAY_NOT_CONFIGURED", description="CARD and ACH need Stripe, which is not configured."
    )
    SIMULATED_NOT_ALLOWED = strawberry.enum_value(
        "SIMULATED_NOT_ALLOWED",
        description="The simulated gateway is off here: production, Stripe configured, or SIMULATED_PAYMENTS off.",
    )
    INVALID_PAYMENT_METHOD = "INVALID_PAYMENT_METHOD"
    PAYMENT_PENDING = strawberry.enum_value(
        "PAYMENT_PENDING", description="A payment of an invoice is clearing (ACH); pay again only if it fails."
    )
    PAYMENT_IN_PROGRESS = strawberry.enum_value(
        "PAYMENT_IN_PROGRESS", description="Another attempt on these invoices is running; try again shortly."
    )
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"
    GATEWAY_UNAVAILABLE = strawberry.enum_value(
        "GATEWAY_UNAVAILABLE",
        description="Stripe did not answer: retry with the same idempotencyKey (it never charges twice).",
    )


@strawberry.type
class PayInvoicesError(UserError):
    code: PayInvoicesErrorCode


PayInvoicesResult = Annotated[PaymentAttempt | PayInvoicesError, strawberry.union("PayInvoicesResult")]


@strawberry.enum
class RemoveSavedPaymentMethodErrorCode(Enum):
    NOT_FOUND = "NOT_FOUND"
    GATEWAY_UNAVAILABLE = "GATEWAY_UNAVAILABLE"


@strawberry.type
class RemoveSavedPaymentMethodError(UserError):
    code: RemoveSavedPaymentMethodErrorCode


RemoveSavedPaymentMethodResult = Annotated[
    SavedPaymentMethod | RemoveSavedPaymentMethodError, strawberry.union("RemoveSavedPaymentMethodResult")
]


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
