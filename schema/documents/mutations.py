"""Inputs and results shared by the estimate and invoice mutations: lines, forwarding, recording a view."""

from __future__ import annotations

from decimal import Decimal
from enum import Enum

import strawberry

from schema.base import UserError, mutation_types, result_union
from schema.estimates.types import Estimate
from schema.invoices.types import Invoice
from services.receipts import KEY_DESCRIPTION

RecordViewError, RecordViewResult = mutation_types("RecordView", Estimate | Invoice, "NOT_FOUND")


@strawberry.input(description="A line of an estimate or invoice as entered by staff; amounts are computed.")
class LineItemInput:
    name: str = strawberry.field(description="What is sold; at most 200 characters.")
    quantity: Decimal = strawberry.field(description="Greater than 0, at most 4 decimals.")
    rate: Decimal = strawberry.field(description="Unit price, with no more decimals than the currency has.")
    description: str | None = None
    discount_percent: Decimal | None = strawberry.field(default=None, description="0–100, at most 4 decimals.")
    tax_name: str | None = None
    tax_percent: Decimal | None = strawberry.field(default=None, description="0–100, at most 4 decimals.")


@strawberry.input(description="Whom to mail a document to, and what to tell them.")
class ForwardDocumentInput:
    document_id: strawberry.ID = strawberry.field(description="An estimate or an invoice.")
    email: str = strawberry.field(description="The recipient's address.")
    name: str | None = strawberry.field(default=None, description="The recipient's name (at most 200 characters).")
    message: str | None = strawberry.field(
        default=None, description="A note shown above the document's summary (at most 2000 characters)."
    )
    idempotency_key: str | None = strawberry.field(default=None, description=KEY_DESCRIPTION)


@strawberry.enum
class ForwardDocumentErrorCode(Enum):
    NOT_FOUND = "NOT_FOUND"
    INVALID_EMAIL = "INVALID_EMAIL"
    INVALID_INPUT = "INVALID_INPUT"
    INVALID_STATE = "INVALID_STATE"
    TOO_MANY_FORWARDS = "TOO_MANY_FORWARDS"
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"


@strawberry.type(
    description=(
        "INVALID_STATE: a draft cannot be forwarded (send it first). TOO_MANY_FORWARDS: the hourly limit per "
        "person was reached; `retryAfterSeconds` says when the next one is allowed."
    )
)
class ForwardDocumentError(UserError):
    code: ForwardDocumentErrorCode
    retry_after_seconds: int | None = None


ForwardDocumentResult = result_union("ForwardDocument", Estimate | Invoice, ForwardDocumentError)
