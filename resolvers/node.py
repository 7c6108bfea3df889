"""``node(id)``: any object by its global id, through the viewer's scope (``NODE_LOADERS``: one entry per type that
implements ``Node``; tests/access/test_node.py derives the list from the schema, so a new type cannot be forgotten)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import strawberry

from core.context import Context
from core.ids import from_global_id
from resolvers.access.sessions import active_session
from schema.base import Node

# GraphQL type -> (the prefix its ids carry, how to load one for this request)
NODE_LOADERS: dict[str, tuple[str, Callable[[Context, int], Awaitable[Any]]]] = {
    name: (prefix or name, load)
    for name, prefix, load in (
        ("Activity", None, lambda ctx, pk: ctx.loaders.activity_entry.load(pk)),
        ("ActiveSession", "Session", active_session),  # (the viewer's own sessions only)
        ("Comment", None, lambda ctx, pk: ctx.loaders.comment.load(pk)),
        ("Contact", None, lambda ctx, pk: ctx.loaders.contact.load(pk)),
        ("ContactPerson", None, lambda ctx, pk: ctx.loaders.contact_person.load(pk)),
        ("Estimate", None, lambda ctx, pk: ctx.loaders.estimate.load(pk)),
        ("Invoice", None, lambda ctx, pk: ctx.loaders.invoice.load(pk)),
        ("Organization", None, lambda ctx, pk: ctx.loaders.organization.load(pk)),
        ("Payment", None, lambda ctx, pk: ctx.loaders.payment.load(pk)),
        ("Project", None, lambda ctx, pk: ctx.loaders.project.load(pk)),
        ("Review", None, lambda ctx, pk: ctx.loaders.review.load(pk)),
        ("SavedPaymentMethod", None, lambda ctx, pk: ctx.loaders.saved_method.load(pk)),
        ("StaffUser", None, lambda ctx, pk: ctx.loaders.staff_user.load(pk)),
        ("Task", None, lambda ctx, pk: ctx.loaders.task.load(pk)),
        ("TimeEntry", None, lambda ctx, pk: ctx.loaders.time_entry.load(pk)),
    )
}
_BY_PREFIX = {prefix: load for prefix, load in NODE_LOADERS.values()}


async def node(info: strawberry.Info, id: strawberry.ID) -> Node | None:
    """The object with this id, or null when it does not exist or is outside the viewer's scope."""
    ctx: Context = info.context
    ctx.require_viewer()
    decoded = from_global_id(id)
    if decoded is None:
        return None
    prefix, pk = decoded
    load = _BY_PREFIX.get(prefix)
    return await load(ctx, pk) if load is not None else None  # type: ignore[no-any-return]


@strawberry.type
class Query:
    node: Node | None = strawberry.field(resolver=node)


QUERIES: tuple[type, ...] = (Query,)
MUTATIONS: tuple[type, ...] = ()
