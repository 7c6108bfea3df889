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


def _loaded(name: str) -> Callable[[Context, int], Awaitable[Any]]:
    """Read through the request's loader ``name`` (its scope's rules)."""
    return lambda ctx, pk: getattr(ctx.loaders, name).load(pk)


# GraphQL type -> (the prefix its ids carry, how to load one for this request)
NODE_LOADERS: dict[str, tuple[str, Callable[[Context, int], Awaitable[Any]]]] = {
    "Activity": ("Activity", _loaded("activity_entry")),
    "ActiveSession": ("Session", active_session),  # (the viewer's own sessions only)
    "Comment": ("Comment", _loaded("comment")),
    "Contact": ("Contact", _loaded("contact")),
    "ContactPerson": ("ContactPerson", _loaded("contact_person")),
    "Estimate": ("Estimate", _loaded("estimate")),
    "Invoice": ("Invoice", _loaded("invoice")),
    "Organization": ("Organization", _loaded("organization")),
    "Payment": ("Payment", _loaded("payment")),
    "Project": ("Project", _loaded("project")),
    "Review": ("Review", _loaded("review")),
    "SavedPaymentMethod": ("SavedPaymentMethod", _loaded("saved_method")),
    "StaffUser": ("StaffUser", _loaded("staff_user")),
    "Task": ("Task", _loaded("task")),
    "TimeEntry": ("TimeEntry", _loaded("time_entry")),
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
