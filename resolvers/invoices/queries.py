"""Invoice queries."""

from __future__ import annotations

import strawberry

from core.context import Context
from core.scope import T_INVOICE
from resolvers import filtering, reads
from resolvers.documents.lists import document_filters, newest_first, one_document
from resolvers.pagination import Paging
from schema.base import After, Before, Connection, First, Last
from schema.invoices.types import Invoice, InvoiceFilter


async def invoices(
    info: strawberry.Info,
    first: First = None,
    after: After = None,
    last: Last = None,
    before: Before = None,
    filter: InvoiceFilter | None = None,
) -> Connection[Invoice]:
    """Invoices in the viewer's scope, newest first."""
    ctx: Context = info.context
    stmt = reads.invoices(ctx.scope)
    if filter:
        kind = filtering.one_of([filter.kind] if filter.kind else None, T_INVOICE.c.kind)
        stmt = stmt.where(*document_filters(filter, T_INVOICE, reads.invoice_status_in), *kind)
    return await newest_first(ctx, stmt, T_INVOICE, Paging(first, after, last, before), Invoice.from_row)


async def invoice(info: strawberry.Info, id: strawberry.ID) -> Invoice | None:
    """One invoice, or null when it is not in the viewer's scope."""
    return await one_document(info.context, id, "Invoice")  # type: ignore[no-any-return]


@strawberry.type
class Query:
    invoices: Connection[Invoice] = strawberry.field(resolver=invoices)
    invoice: Invoice | None = strawberry.field(resolver=invoice)
