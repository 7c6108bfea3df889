"""Estimate queries."""

from __future__ import annotations

import datetime as dt

import strawberry

from core.context import Context
from core.ids import decode_id
from core.scope import T_ESTIMATE
from resolvers import filtering, reads
from resolvers.pagination import paginate
from schema.base import Connection
from schema.estimates.types import Estimate, EstimateFilter


async def estimates(
    info: strawberry.Info, first: int | None = None, after: str | None = None, filter: EstimateFilter | None = None
) -> Connection[Estimate]:
    """Estimates in the viewer's scope, newest first."""
    ctx: Context = info.context
    stmt = reads.estimates(ctx.scope)
    if filter:
        stmt = stmt.where(
            *([reads.estimate_status_in(filter.status)] if filter.status is not None else []),
            *filtering.date_range(filter.date_range, T_ESTIMATE.c.issue_date),
            *filtering.search(filter.search, T_ESTIMATE.c.number, T_ESTIMATE.c.reference),
            *filtering.contact(filter.contact_id, T_ESTIMATE.c.contact_id),
        )
    return await paginate(
        ctx.db,
        stmt,
        order=[T_ESTIMATE.c.issue_date, T_ESTIMATE.c.id],
        kinds=[dt.date, int],
        descending=True,
        first=first,
        after=after,
        to_node=Estimate.from_row,
    )


async def estimate(info: strawberry.Info, id: strawberry.ID) -> Estimate | None:
    """One estimate, or null when it is not in the viewer's scope."""
    pk = decode_id(id, "Estimate")
    return await info.context.loaders.estimate.load(pk) if pk else None


@strawberry.type
class Query:
    estimates: Connection[Estimate] = strawberry.field(resolver=estimates)
    estimate: Estimate | None = strawberry.field(resolver=estimate)
