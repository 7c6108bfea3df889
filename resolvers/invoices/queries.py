"""Invoice queries."""

from __future__ import annotations

import datetime as dt

import strawberry

from core.context import Context
from core.ids import decode_id
from core.scope import T_INVOICE
from resolvers import filtering, reads
from resolvers.pagination import paginate
from schema.base import Connection
from schema.invoices.types import Invoice, InvoiceFilter


async def invoices(
    info: strawberry.Info, first: int | None = None, after: str | None = None, filter: InvoiceFilter | None = None
) -> Connection[Invoice]:
    """Invoices in the viewer's scope, newest first."""
    ctx: Context = info.context
    stmt = reads.invoices(ctx.scope)
    if filter:
        stmt = stmt.where(
            *([reads.invoice_status_in(filter.status)] if filter.status is not None else []),
            *filtering.one_of([filter.kind] if filter.kind else None, T_INVOICE.c.kind),
            *filtering.date_range(filter.date_range, T_INVOICE.c.issue_date),
            *filtering.search(filter.search, T_INVOICE.c.number, T_INVOICE.c.reference),
            *filtering.contact(filter.contact_id, T_INVOICE.c.contact_id),
        )
    return await paginate(
        ctx.db,
        stmt,
        order=[T_INVOICE.c.issue_date, T_INVOICE.c.id],
        kinds=[dt.date, int],
        descending=True,
        first=first,
        after=after,
        to_node=Invoice.from_row,
    )


async def invoice(info: strawberry.Info, id: strawberry.ID) -> Invoice | None:
    """One invoice, or null when it is not in the viewer's scope."""
    pk = decode_id(id, "Invoice")
    return await info.context.loaders.invoice.load(pk) if pk else None


@strawberry.type
class Query:
    invoices: Connection[Invoice] = strawberry.field(resolver=invoices)
    invoice: Invoice | None = strawberry.field(resolver=invoice)
