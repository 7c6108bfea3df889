"""What estimates and invoices share: the Document interface, line items, taxes, history."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from enum import Enum
from typing import Any

import strawberry

from core.money import quantize, trim
from core.urls import api_url
from models.documents import ACTIVITY_KINDS
from schema.base import After, Before, Connection, First, Last, Node, from_columns
from schema.contacts.types import Contact, ContactPerson
from schema.conversations.types import Comment

ActivityKind = strawberry.enum(
    Enum("ActivityKind", {kind.upper(): kind.upper() for kind in (*ACTIVITY_KINDS, "other")}),  # type: ignore[misc]
    description="What a history entry records; OTHER for a kind this version of the API does not know yet.",
)


@strawberry.type(description="One entry of a document's append-only history.")
class Activity(Node):
    kind: str = strawberry.field(
        description="The entry's kind in snake_case.",
        deprecation_reason="Use `type` (ActivityKind, UPPER_CASE like every other enum); `kind` goes away after "
        "2027-06-01 (README: Deprecation policy).",
    )
    type: ActivityKind = strawberry.field(description="What the entry records.")  # type: ignore[valid-type]
    description: str
    actor_name: str | None
    created_at: dt.datetime

    @staticmethod
    def from_row(row: Any) -> Activity:
        known = row.kind.upper()
        return from_columns(
            Activity,
            row,
            type=ActivityKind[known] if known in ActivityKind.__members__ else ActivityKind.OTHER,
            description=(row.details or {}).get("description", row.kind.replace("_", " ")),
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
        return from_columns(
            LineItem,
            row,
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


def document_values(row: Any) -> dict[str, Any]:
    """The fields an estimate and an invoice compute alike from their row (``from_columns`` reads the others): the
    amounts rounded to its currency, and whether it was viewed."""
    currency = row.currency
    return {
        "subtotal": quantize(row.subtotal, currency),
        "tax_total": quantize(row.tax_total, currency),
        "total": quantize(row.total, currency),
        "viewed": row.viewed_at is not None,
    }


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

    @strawberry.field(
        description="The PDF (GET, with the session: `Authorization: Bearer <token>`, or the cookie): "
        "`PUBLIC_API_URL` (else this request's origin) + `/documents/<id>.pdf`."
    )
    def pdf_url(self, info: strawberry.Info) -> str:
        return api_url(info.context, f"/documents/{self.id}.pdf")

    @strawberry.field
    async def line_items(self, info: strawberry.Info) -> list[LineItem]:
        return await info.context.loaders.line_items(self).load(self.pk)

    @strawberry.field(description="Comments the viewer may see, oldest first.")
    async def comments(
        self, info: strawberry.Info, first: First = None, after: After = None, last: Last = None, before: Before = None
    ) -> Connection[Comment]:
        from resolvers.conversations.comments import comments_on
        from resolvers.pagination import Paging

        return await comments_on(info, self, Paging(first, after, last, before))

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
