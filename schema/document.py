"""Estimates, invoices, their line items, comments and history."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from core.ids import to_global_id
from core.money import quantize, trim
from schema.base import Connection, Node
from schema.enums import EstimateStatus, InvoiceKind, InvoiceStatus, PaymentGateway
from schema.people import Contact, ContactPerson, StaffUser

if TYPE_CHECKING:
    from schema.payment import Payment


@strawberry.enum
class CommentAuthorKind(Enum):
    STAFF = "STAFF"
    CLIENT = "CLIENT"


@strawberry.type(description="A comment on an estimate, an invoice or a project.")
class Comment(Node):
    body: str = strawberry.field(description="Plain text.")
    visible_in_portal: bool = strawberry.field(description="Staff comments reach the portal only when set.")
    author_kind: CommentAuthorKind
    author_name: str
    created_at: dt.datetime

    @staticmethod
    def from_row(row: Any) -> Comment:
        return Comment(
            id=strawberry.ID(to_global_id("Comment", row.id)),
            body=row.body,
            visible_in_portal=row.visible_in_portal,
            author_kind=CommentAuthorKind.CLIENT if row.author_contact_person_id else CommentAuthorKind.STAFF,
            author_name=row.author_name or "",
            created_at=row.created_at,
        )


@strawberry.type(description="One entry of a document's append-only history.")
class Activity(Node):
    kind: str = strawberry.field(description="created, sent, viewed, accepted, declined, commented, paid, …")
    description: str
    actor_name: str | None
    created_at: dt.datetime

    @staticmethod
    def from_row(row: Any) -> Activity:
        return Activity(
            id=strawberry.ID(to_global_id("Activity", row.id)),
            kind=row.kind,
            description=(row.details or {}).get("description", row.kind.replace("_", " ")),
            actor_name=row.actor_name,
            created_at=row.created_at,
        )


@strawberry.type(description="A line of an estimate or invoice.")
class LineItem:
    position: int
    name: str
    description: str | None
    quantity: Decimal
    rate: Decimal
    discount_percent: Decimal
    tax_name: str | None
    tax_percent: Decimal
    amount: Decimal = strawberry.field(description="quantity × rate less discount, rounded to the currency.")
    tax_amount: Decimal

    @staticmethod
    def from_row(row: Any, currency: str) -> LineItem:
        return LineItem(
            position=row.position,
            name=row.name,
            description=row.description,
            quantity=trim(row.quantity),
            rate=quantize(row.rate, currency),
            discount_percent=trim(row.discount_percent),
            tax_name=row.tax_name,
            tax_percent=trim(row.tax_percent),
            amount=quantize(row.amount, currency),
            tax_amount=quantize(row.tax_amount, currency),
        )


@strawberry.interface(description="An estimate or an invoice.")
class Document(Node):
    number: str
    viewed: bool = strawberry.field(description="Whether a portal user has opened it.")
    viewed_at: dt.datetime | None
    total: Decimal
    currency: str
    pk: strawberry.Private[int]
    contact_id: strawberry.Private[int]

    @strawberry.field
    async def contact(self, info: strawberry.Info) -> Contact:
        return await info.context.loaders.contact.load(self.contact_id)

    @strawberry.field
    async def line_items(self, info: strawberry.Info) -> list[LineItem]:
        return await info.context.loaders.line_items(self).load(self.pk)

    @strawberry.field(description="Comments the viewer may see, oldest first.")
    async def comments(
        self, info: strawberry.Info, first: int | None = None, after: str | None = None
    ) -> Connection[Comment]:
        from resolvers.comment import comments_on

        return await comments_on(info, self, first=first, after=after)

    @strawberry.field(description="History: complete for staff, the client-safe part in the portal.")
    async def activity(self, info: strawberry.Info) -> list[Activity]:
        return await info.context.loaders.activity(self).load(self.pk)

    @strawberry.field(description="The portal user who first viewed it.")
    async def viewed_by(self, info: strawberry.Info) -> ContactPerson | None:
        viewed_by_id = getattr(self, "viewed_by_id", None)
        return await info.context.loaders.contact_person.load(viewed_by_id) if viewed_by_id else None


@strawberry.type
class Estimate(Document):
    reference: str | None
    status: EstimateStatus
    issue_date: dt.date
    expiry_date: dt.date | None
    subtotal: Decimal
    tax_total: Decimal
    notes: str | None
    terms: str | None
    sent_at: dt.datetime | None
    accepted_at: dt.datetime | None
    signature_name: str | None
    declined_at: dt.datetime | None
    decline_reason: str | None
    created_at: dt.datetime
    viewed_by_id: strawberry.Private[int | None]

    @staticmethod
    def from_row(row: Any) -> Estimate:
        currency = row.currency
        return Estimate(
            id=strawberry.ID(to_global_id("Estimate", row.id)),
            pk=row.id,
            contact_id=row.contact_id,
            number=row.number,
            reference=row.reference,
            status=EstimateStatus(row.effective_status),
            issue_date=row.issue_date,
            expiry_date=row.expiry_date,
            currency=currency,
            subtotal=quantize(row.subtotal, currency),
            tax_total=quantize(row.tax_total, currency),
            total=quantize(row.total, currency),
            notes=row.notes,
            terms=row.terms,
            sent_at=row.sent_at,
            viewed=row.viewed_at is not None,
            viewed_at=row.viewed_at,
            viewed_by_id=row.viewed_by_id,
            accepted_at=row.accepted_at,
            signature_name=row.signature_name,
            declined_at=row.declined_at,
            decline_reason=row.decline_reason,
            created_at=row.created_at,
        )


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

    @strawberry.field(description="A payment still clearing (ACH): no other online payment until it settles.")
    async def pending_payment(
        self, info: strawberry.Info
    ) -> Annotated[Payment, strawberry.lazy("schema.payment")] | None:
        from resolvers.pay import pending_payment

        return await pending_payment(info, self.pk)

    @staticmethod
    def from_row(row: Any) -> Invoice:
        currency = row.currency
        return Invoice(
            id=strawberry.ID(to_global_id("Invoice", row.id)),
            pk=row.id,
            contact_id=row.contact_id,
            number=row.number,
            reference=row.reference,
            kind=InvoiceKind(row.kind),
            status=InvoiceStatus(row.effective_status),
            issue_date=row.issue_date,
            due_date=row.due_date,
            currency=currency,
            subtotal=quantize(row.subtotal, currency),
            tax_total=quantize(row.tax_total, currency),
            total=quantize(row.total, currency),
            amount_paid=quantize(row.amount_paid, currency),
            balance_due=quantize(row.balance_due, currency),
            payment_gateways=[PaymentGateway(g) for g in row.payment_gateways],
            notes=row.notes,
            terms=row.terms,
            sent_at=row.sent_at,
            viewed=row.viewed_at is not None,
            viewed_at=row.viewed_at,
            viewed_by_id=row.viewed_by_id,
            created_at=row.created_at,
        )


__all__ = ["Activity", "Comment", "Document", "Estimate", "Invoice", "LineItem", "StaffUser"]
