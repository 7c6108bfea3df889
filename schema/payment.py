"""Payments and their allocations to invoices."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import strawberry

from core.ids import to_global_id
from core.money import quantize
from schema.base import Node, staff_only
from schema.document import Invoice
from schema.enums import PaymentMode, PaymentStatus
from schema.people import Contact


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
        return Payment(
            id=strawberry.ID(to_global_id("Payment", row.id)),
            pk=row.id,
            contact_id=row.contact_id,
            amount=quantize(row.amount, row.currency),
            currency=row.currency,
            payment_date=row.payment_date,
            mode=PaymentMode(row.mode),
            status=PaymentStatus(row.status),
            reference=row.reference,
            notes=row.notes,
            created_at=row.created_at,
        )
