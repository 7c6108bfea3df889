"""Inputs, errors and results of payInvoices, removeSavedPaymentMethod and recordPayment."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum

import strawberry

from models.payments import MANUAL_PAYMENT_MODES
from schema.base import mutation_types
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


PayInvoicesError, PayInvoicesResult = mutation_types(
    "PayInvoices",
    PaymentAttempt,
    "NOT_FOUND INVALID_INPUT ALREADY_PAID INVALID_STATE EXCEEDS_BALANCE CURRENCY_MISMATCH INVALID_PAYMENT_METHOD",
    "IDEMPOTENCY_KEY_REUSED",
    GATEWAY_NOT_ALLOWED="An invoice does not accept this payment method type.",
    GATEWAY_NOT_CONFIGURED="CARD and ACH need Stripe, which is not configured.",
    SIMULATED_NOT_ALLOWED="The simulated gateway is off here: production, Stripe configured, or "
    "SIMULATED_PAYMENTS off.",
    PAYMENT_PENDING="A payment of an invoice is clearing (ACH); pay again only if it fails.",
    PAYMENT_IN_PROGRESS="Another attempt on these invoices is running; try again shortly.",
    GATEWAY_UNAVAILABLE="Stripe did not answer: retry with the same idempotencyKey (it never charges twice).",
)


RemoveSavedPaymentMethodError, RemoveSavedPaymentMethodResult = mutation_types(
    "RemoveSavedPaymentMethod", SavedPaymentMethod, "NOT_FOUND GATEWAY_UNAVAILABLE"
)


ManualPaymentMode = strawberry.enum(
    StrEnum("ManualPaymentMode", [(mode.name, mode.value) for mode in MANUAL_PAYMENT_MODES]),
    description="The PaymentMode values staff record by hand; CARD and ACH payments come from the gateways.",
)


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


RecordPaymentError, RecordPaymentResult = mutation_types(
    "RecordPayment", Payment, "NOT_FOUND INVALID_INPUT INVALID_STATE EXCEEDS_BALANCE IDEMPOTENCY_KEY_REUSED"
)
