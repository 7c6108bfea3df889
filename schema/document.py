"""Estimates, invoices, their line items, comments and history."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from core.ids import to_global_id
from core.money import quantize, trim
from schema.base import Connection, Node, StaffOnly
from schema.enums import EstimateStatus, InvoiceKind, InvoiceStatus, PaymentGateway, PaymentMode, PaymentStatus
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


@strawberry.type(description="The tax of a document at one rate: the sum of its lines' tax amounts.")
class TaxAmount:
    name: str | None
    percent: Decimal
    amount: Decimal


def tax_breakdown(lines: list[LineItem], currency: str) -> list[TaxAmount]:
    """Lines' taxes grouped by name and rate, in order of first appearance (untaxed lines left out)."""
    groups: dict[tuple[str | None, Decimal], Decimal] = defaultdict(Decimal)
    for line in lines:
        if line.tax_name is not None or line.tax_percent > 0:
            groups[(line.tax_name, line.tax_percent)] += line.tax_amount
    return [
        TaxAmount(name=name, percent=percent, amount=quantize(amount, currency))
        for (name, percent), amount in groups.items()
    ]


@strawberry.type(description="A payment applied to an invoice, with the part of it this invoice received.")
class AppliedPayment:
    amount: Decimal = strawberry.field(description="The part of the payment applied to this invoice.")
    payment_date: dt.date
    mode: PaymentMode
    status: PaymentStatus = strawberry.field(description="A pending ACH payment shows as PENDING.")
    reference: str | None
    payment_row: strawberry.Private[Any]

    @strawberry.field(description="The whole payment (it may span several invoices).")
    def payment(self) -> Annotated[Payment, strawberry.lazy("schema.payment")]:
        from schema.payment import Payment

        return Payment.from_row(self.payment_row)

    @staticmethod
    def from_row(row: Any) -> AppliedPayment:
        return AppliedPayment(
            amount=quantize(row.applied_amount, row.currency),
            payment_date=row.payment_date,
            mode=PaymentMode(row.mode),
            status=PaymentStatus(row.status),
            reference=row.reference,
            payment_row=row,
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

    @strawberry.field(description="Tax per name and rate, summed over the lines.")
    async def taxes(self, info: strawberry.Info) -> list[TaxAmount]:
        return tax_breakdown(await info.context.loaders.line_items(self).load(self.pk), self.currency)

    @strawberry.field(description="How many comments the viewer may see.")
    async def comment_count(self, info: strawberry.Info) -> int:
        return await info.context.loaders.comment_count(self).load(self.pk)

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
    accepted_by_id: strawberry.Private[int | None]
    accepted_from: strawberry.Private[str | None]

    @strawberry.field(description="The portal user who accepted it.")
    async def accepted_by(self, info: strawberry.Info) -> ContactPerson | None:
        pk = self.accepted_by_id
        return await info.context.loaders.contact_person.load(pk) if pk else None

    @strawberry.field(
        description="The address the estimate was accepted from. Staff only: null in the portal.",
        extensions=[StaffOnly()],
    )
    def accepted_ip(self) -> str | None:
        return self.accepted_from

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
            accepted_by_id=row.accepted_by_id,
            accepted_from=str(row.accepted_ip) if row.accepted_ip is not None else None,
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

    @strawberry.field(description="Payments applied to this invoice, oldest first.")
    async def payments(self, info: strawberry.Info) -> list[AppliedPayment]:
        return await info.context.loaders.applied_payments.load(self.pk)

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
