"""A contact's statement of account."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Any

import strawberry

from core.ids import to_global_id
from schema.base import from_columns
from schema.contacts.types import Contact, contact_field
from schema.invoices.types import Invoice
from schema.payments.types import Payment

if TYPE_CHECKING:
    from services.statements.compute import Statement as StatementData


@strawberry.enum
class StatementEntryKind(Enum):
    INVOICE = "INVOICE"
    PAYMENT = "PAYMENT"


@strawberry.type(description="An invoice (a debit) or a payment (a credit), with the balance after it.")
class StatementEntry:
    date: dt.date
    kind: StatementEntryKind
    number: str = strawberry.field(description="The invoice number, or the payment's reference (may be empty).")
    description: str
    debit: Decimal = strawberry.field(description="The invoice's total; 0 on payment lines.")
    credit: Decimal = strawberry.field(description="The payment's amount; 0 on invoice lines.")
    balance: Decimal = strawberry.field(description="Running balance after this line.")
    due_date: dt.date | None
    document_pk: strawberry.Private[int]

    @strawberry.field(description="The invoice of an INVOICE line.")
    async def invoice(self, info: strawberry.Info) -> Invoice | None:
        if self.kind is not StatementEntryKind.INVOICE:
            return None
        return await info.context.loaders.invoice.load(self.document_pk)  # type: ignore[no-any-return]

    @strawberry.field(description="The payment of a PAYMENT line.")
    async def payment(self, info: strawberry.Info) -> Payment | None:
        if self.kind is not StatementEntryKind.PAYMENT:
            return None
        return await info.context.loaders.payment.load(self.document_pk)  # type: ignore[no-any-return]

    @strawberry.field(description="Opaque id of the invoice or payment.")
    def document_id(self) -> strawberry.ID:
        type_name = "Invoice" if self.kind is StatementEntryKind.INVOICE else "Payment"
        return strawberry.ID(to_global_id(type_name, self.document_pk))


@strawberry.type(
    description=(
        "Statement of account for a period: the opening balance on `from`, every invoice issued (not draft, not "
        "void) and every succeeded payment in the period in date order with a running balance, and the closing "
        "balance. One currency: the contact's."
    )
)
class Statement:
    from_: dt.date = strawberry.field(name="from")
    to: dt.date
    currency: str
    opening_balance: Decimal = strawberry.field(description="Invoiced minus paid before `from`.")
    invoiced_amount: Decimal = strawberry.field(description="Sum of the debits in the period.")
    amount_received: Decimal = strawberry.field(description="Sum of the credits in the period.")
    closing_balance: Decimal = strawberry.field(description="Opening balance + invoiced − received.")
    entries: list[StatementEntry]
    contact_id: strawberry.Private[int]

    contact: Contact = contact_field()

    @staticmethod
    def from_data(data: StatementData) -> Statement:
        return from_columns(
            Statement,
            data,
            invoiced_amount=data.invoiced,
            amount_received=data.paid,
            entries=[_entry(line) for line in data.lines],
        )


def _entry(line: Any) -> StatementEntry:
    return from_columns(StatementEntry, line, debit=line.charge, credit=line.payment, document_pk=line.id)
