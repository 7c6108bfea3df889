"""Comment threads on estimates, invoices and projects."""

from __future__ import annotations

import strawberry

from core.context import Context
from core.scope import T_COMMENT
from resolvers import reads
from resolvers.pagination import paginate
from schema.base import Connection
from schema.document import Comment, Estimate, Invoice
from schema.project import Project


async def comments_on(
    info: strawberry.Info, target: Estimate | Invoice | Project, *, first: int | None, after: str | None
) -> Connection[Comment]:
    """The comments on ``target`` that the viewer may see, oldest first."""
    ctx: Context = info.context
    column = T_COMMENT.c[f"{type(target).__name__.lower()}_id"]
    return await paginate(
        ctx.db,
        reads.comments(ctx.scope).where(column == target.pk),
        order=[T_COMMENT.c.id],
        kinds=[int],
        descending=False,
        first=first,
        after=after,
        to_node=Comment.from_row,
    )
