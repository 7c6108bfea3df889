"""Inputs, errors and results of the staff invoice mutations."""

from __future__ import annotations

import datetime as dt

import strawberry

from schema.base import mutation_types
from schema.documents.mutations import LineItemInput
from schema.invoices.types import Invoice, InvoiceKind
from schema.payments.enums import PaymentGateway
from services.receipts import KEY_DESCRIPTION


@strawberry.input(description="A new DRAFT invoice; the number comes from the organization's sequence.")
class CreateInvoiceInput:
    contact_id: strawberry.ID = strawberry.field(description="The customer; the invoice takes its currency.")
    kind: InvoiceKind = InvoiceKind.REGULAR
    issue_date: dt.date | None = strawberry.field(default=strawberry.UNSET, description="Defaults to today (UTC).")
    due_date: dt.date | None = strawberry.field(default=strawberry.UNSET, description="Not before the issue date.")
    reference: str | None = strawberry.UNSET
    notes: str | None = strawberry.UNSET
    terms: str | None = strawberry.UNSET
    payment_gateways: list[PaymentGateway] | None = strawberry.field(
        default=strawberry.UNSET,
        description="Gateways the client may pay with; defaults to every gateway the organization has configured.",
    )
    line_items: list[LineItemInput] = strawberry.field(default_factory=list)
    idempotency_key: str | None = strawberry.field(default=None, description=KEY_DESCRIPTION)


@strawberry.input(
    description=(
        "Changes to an invoice in DRAFT or SENT with nothing paid; fields left out stay as they are, null clears."
    )
)
class UpdateInvoiceInput:
    id: strawberry.ID
    kind: InvoiceKind | None = strawberry.UNSET
    issue_date: dt.date | None = strawberry.UNSET
    due_date: dt.date | None = strawberry.UNSET
    reference: str | None = strawberry.UNSET
    notes: str | None = strawberry.UNSET
    terms: str | None = strawberry.UNSET
    payment_gateways: list[PaymentGateway] | None = strawberry.UNSET
    line_items: list[LineItemInput] | None = strawberry.field(
        default=strawberry.UNSET, description="Replaces every line when given."
    )


CreateInvoiceError, CreateInvoiceResult = mutation_types(
    "CreateInvoice", Invoice, "NOT_FOUND INVALID_INPUT IDEMPOTENCY_KEY_REUSED"
)


UpdateInvoiceError, UpdateInvoiceResult = mutation_types(
    "UpdateInvoice", Invoice, "NOT_FOUND INVALID_INPUT INVALID_STATE"
)


SendInvoiceError, SendInvoiceResult = mutation_types("SendInvoice", Invoice, "NOT_FOUND INVALID_STATE EMPTY_DOCUMENT")


VoidInvoiceError, VoidInvoiceResult = mutation_types("VoidInvoice", Invoice, "NOT_FOUND INVALID_STATE HAS_PAYMENTS")
