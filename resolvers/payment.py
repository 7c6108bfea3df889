"""Payment queries."""

from __future__ import annotations

import datetime as dt

import strawberry

from core.context import Context
from core.scope import T_PAYMENT
from resolvers import filtering
from resolvers.pagination import paginate
from schema.base import Connection
from schema.filters import PaymentFilter
from schema.payment import Payment


async def payments(
    info: strawberry.Info, first: int | None = None, after: str | None = None, filter: PaymentFilter | None = None
) -> Connection[Payment]:
    """Payments in the viewer's scope, newest first."""
    ctx: Context = info.context
    stmt = ctx.scope.select(T_PAYMENT)
    if filter:
        stmt = stmt.where(
            *filtering.one_of(filter.status, T_PAYMENT.c.status),
            *filtering.one_of(filter.mode, T_PAYMENT.c.mode),
            *filtering.date_range(filter.date_range, T_PAYMENT.c.payment_date),
            *filtering.contact(filter.contact_id, T_PAYMENT.c.contact_id),
        )
    return await paginate(
        ctx.db,
        stmt,
        order=[T_PAYMENT.c.payment_date, T_PAYMENT.c.id],
        kinds=[dt.date, int],
        descending=True,
        first=first,
        after=after,
        to_node=Payment.from_row,
    )


@strawberry.type
class Query:
    payments: Connection[Payment] = strawberry.field(resolver=payments)
