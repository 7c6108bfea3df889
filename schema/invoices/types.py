"""Invoices, and the payments applied to them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from core.money import quantize
from models import invoices
from schema.base import DateRange, from_columns
from schema.documents.types import Document, document_values
from schema.payments.enums import PaymentGateway, PaymentMode, PaymentStatus

if TYPE_CHECKING:
    from schema.payments.types import Payment

InvoiceStatus = strawberry.enum(
    invoices.InvoiceStatus,
    description="Lifecycle of an invoice. OVERDUE is derived: SENT or PARTIALLY_PAID with a due date in the past.",
)


InvoiceKind = strawberry.enum(
    invoices.InvoiceKind, description="A regular invoice, or a retainer (an advance payment request)."
)


@strawberry.input
class InvoiceFilter:
    status: list[InvoiceStatus] | None = strawberry.field(default=None, description="Any of these statuses.")
    kind: InvoiceKind | None = None
    date_range: DateRange | None = strawberry.field(default=None, description="Issue date range.")
    search: str | None = strawberry.field(default=None, description="Part of the number or reference.")
    contact_id: strawberry.ID | None = strawberry.field(default=None, description="Staff: one contact's invoices.")


@strawberry.type(description="A payment applied to an invoice, with the part of it this invoice received.")
class AppliedPayment:
    amount: Decimal = strawberry.field(description="The part of the payment applied to this invoice.")
    payment_date: dt.date
    mode: PaymentMode
    status: PaymentStatus = strawberry.field(description="A pending ACH payment shows as PENDING.")
    reference: str | None
    payment_row: strawberry.Private[Any]

    @strawberry.field(description="The whole payment (it may span several invoices).")
    def payment(self) -> Annotated[Payment, strawberry.lazy("schema.payments.types")]:
        from schema.payments.types import Payment

        return Payment.from_row(self.payment_row)

    @staticmethod
    def from_row(row: Any) -> AppliedPayment:
        return from_columns(AppliedPayment, row, amount=quantize(row.applied_amount, row.currency), payment_row=row)


@strawberry.type
class Invoice(Document):
    reference: str | None
    kind: InvoiceKind
    status: InvoiceStatus
    issue_date: dt.date
    due_date: dt.date | None
    subtotal: Decimal
    tax_total: Decimal
    amount_paid: Decimal
    balance_due: Decimal
    payment_gateways: list[PaymentGateway] = strawberry.field(description="Gateways the client may pay this with.")
    notes: str | None
    terms: str | None
    sent_at: dt.datetime | None
    created_at: dt.datetime
    viewed_by_id: strawberry.Private[int | None]

    @strawberry.field(
        description="How to pay it other than online (bank details, checks): the organization's instructions."
    )
    async def payment_instructions(self, info: strawberry.Info) -> str | None:
        organization = await info.context.loaders.organization.load(info.context.require_viewer().organization_id)
        return organization.payment_instructions if organization is not None else None

    @strawberry.field(description="Payments applied to this invoice, oldest first.")
    async def payments(self, info: strawberry.Info) -> list[AppliedPayment]:
        return await info.context.loaders.applied_payments.load(self.pk)

    @strawberry.field(description="A payment still clearing (ACH): no other online payment until it settles.")
    async def pending_payment(
        self, info: strawberry.Info
    ) -> Annotated[Payment, strawberry.lazy("schema.payments.types")] | None:
        from resolvers.payments.pay import pending_payment

        return await pending_payment(info, self.pk)

    @staticmethod
    def from_row(row: Any) -> Invoice:
        currency = row.currency
        return from_columns(
            Invoice,
            row,
            **document_values(row),
            status=InvoiceStatus(row.effective_status),
            amount_paid=quantize(row.amount_paid, currency),
            balance_due=quantize(row.balance_due, currency),
            payment_gateways=[PaymentGateway(g) for g in row.payment_gateways],
        )
