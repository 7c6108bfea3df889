"""Estimate queries."""

from __future__ import annotations

import strawberry

from core.context import Context
from core.scope import T_ESTIMATE
from resolvers import reads
from resolvers.documents.lists import document_filters, newest_first, one_document
from resolvers.pagination import Paging
from schema.base import After, Before, Connection, First, Last
from schema.estimates.types import Estimate, EstimateFilter


async def estimates(
    info: strawberry.Info,
    first: First = None,
    after: After = None,
    last: Last = None,
    before: Before = None,
    filter: EstimateFilter | None = None,
) -> Connection[Estimate]:
    """Estimates in the viewer's scope, newest first."""
    ctx: Context = info.context
    stmt = reads.estimates(ctx.scope)
    if filter:
        stmt = stmt.where(*document_filters(filter, T_ESTIMATE, reads.estimate_status_in))
    return await newest_first(ctx, stmt, T_ESTIMATE, Paging(first, after, last, before), Estimate.from_row)


async def estimate(info: strawberry.Info, id: strawberry.ID) -> Estimate | None:
    """One estimate, or null when it is not in the viewer's scope."""
    return await one_document(info.context, id, "Estimate")  # type: ignore[no-any-return]


@strawberry.type
class Query:
    estimates: Connection[Estimate] = strawberry.field(resolver=estimates)
    estimate: Estimate | None = strawberry.field(resolver=estimate)
