"""Payments, their allocations, online payment attempts and saved payment methods."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import strawberry

from core.money import quantize
from schema.base import DateRange, Node, from_columns, staff_only
from schema.contacts.types import Contact
from schema.invoices.types import Invoice
from schema.payments.enums import (
    PaymentAttemptStatus,
    PaymentFailureCode,
    PaymentGateway,
    PaymentMethodType,
    PaymentMode,
    PaymentStatus,
)


@strawberry.input
class PaymentFilter:
    status: list[PaymentStatus] | None = None
    mode: list[PaymentMode] | None = None
    date_range: DateRange | None = strawberry.field(default=None, description="Payment date range.")
    contact_id: strawberry.ID | None = strawberry.field(default=None, description="Staff: one contact's payments.")


@strawberry.type(description="The outcome of payInvoices; the same idempotencyKey returns the same attempt.")
class PaymentAttempt:
    status: PaymentAttemptStatus
    client_secret: str | None = strawberry.field(description="Set while REQUIRES_ACTION, for Stripe.js.")
    amount: Decimal
    currency: str
    method_type: PaymentMethodType
    failure_code: PaymentFailureCode | None
    failure_message: str | None
    payment_id: strawberry.Private[int | None]
    invoice_ids: strawberry.Private[list[int]]

    @strawberry.field(description="The payment: SUCCEEDED once paid, PENDING while an ACH debit clears.")
    async def payment(self, info: strawberry.Info) -> Payment | None:
        return await info.context.loaders.payment.load(self.payment_id) if self.payment_id else None

    @strawberry.field(description="The invoices this attempt pays, as they stand now.")
    async def invoices(self, info: strawberry.Info) -> list[Invoice]:
        loaded = await info.context.loaders.invoice.load_many(self.invoice_ids)
        return [invoice for invoice in loaded if invoice is not None]


@strawberry.type(description="A card or bank account kept at Stripe for a contact (display data only).")
class SavedPaymentMethod(Node):
    type: PaymentGateway
    brand: str | None = strawberry.field(description="Card brand (visa, mastercard, …).")
    bank_name: str | None
    last4: str
    exp_month: int | None
    exp_year: int | None
    created_at: dt.datetime
    contact_id: strawberry.Private[int]

    @strawberry.field
    async def contact(self, info: strawberry.Info) -> Contact | None:
        return await info.context.loaders.contact.load(self.contact_id)

    @staticmethod
    def from_row(row: Any) -> SavedPaymentMethod:
        return from_columns(SavedPaymentMethod, row)


@strawberry.type(description="The part of a payment applied to one invoice.")
class PaymentAllocation:
    amount: Decimal
    invoice_id: strawberry.Private[int]

    @strawberry.field
    async def invoice(self, info: strawberry.Info) -> Invoice | None:
        return await info.context.loaders.invoice.load(self.invoice_id)


@strawberry.type(description="Money received from a contact, split over one or more invoices.")
class Payment(Node):
    amount: Decimal
    currency: str
    payment_date: dt.date
    mode: PaymentMode
    status: PaymentStatus = strawberry.field(description="A pending ACH payment shows as PENDING.")
    reference: str | None
    receipt_number: str | None = strawberry.field(
        description="RCT-000001…: per organization, without gaps, given when an online payment (card, ACH once "
        "cleared, SIMULATED) succeeds; none for payments staff record."
    )
    notes: str | None = staff_only(description="What staff noted when recording it.")
    created_at: dt.datetime
    pk: strawberry.Private[int]
    contact_id: strawberry.Private[int]

    @strawberry.field
    async def contact(self, info: strawberry.Info) -> Contact:
        return await info.context.loaders.contact.load(self.contact_id)

    @strawberry.field(description="How the payment was applied to invoices.")
    async def allocations(self, info: strawberry.Info) -> list[PaymentAllocation]:
        return await info.context.loaders.allocations_by_payment.load(self.pk)

    @staticmethod
    def from_row(row: Any) -> Payment:
        return from_columns(Payment, row, amount=quantize(row.amount, row.currency))
