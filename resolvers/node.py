"""``node(id)``: any object by its global id, through the viewer's scope."""

from __future__ import annotations

from typing import Any

import strawberry

from core.context import Context
from core.ids import from_global_id
from schema.base import Node


async def node(info: strawberry.Info, id: strawberry.ID) -> Node | None:
    """The object with this id, or null when it does not exist or is outside the viewer's scope."""
    ctx: Context = info.context
    ctx.require_viewer()
    decoded = from_global_id(id)
    if decoded is None:
        return None
    type_name, pk = decoded
    loader: Any = {
        "Contact": ctx.loaders.contact,
        "ContactPerson": ctx.loaders.contact_person,
        "Estimate": ctx.loaders.estimate,
        "Invoice": ctx.loaders.invoice,
        "Project": ctx.loaders.project,
        "Payment": ctx.loaders.payment,
        "StaffUser": ctx.loaders.staff_user,
        "Task": ctx.loaders.task,
        "TimeEntry": ctx.loaders.time_entry,
        "Comment": ctx.loaders.comment,
    }.get(type_name)
    return await loader.load(pk) if loader is not None else None


@strawberry.type
class Query:
    node: Node | None = strawberry.field(resolver=node)


QUERIES: tuple[type, ...] = (Query,)
MUTATIONS: tuple[type, ...] = ()
