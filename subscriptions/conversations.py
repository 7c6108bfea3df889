"""Live comments: each new comment a subscriber may see, on anything or on one estimate, invoice or project."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import strawberry

from core.context import Context
from core.errors import TopLevelCode, top_level_error
from core.ids import from_global_id
from core.scope import T_COMMENT
from resolvers.loaders import Loaders
from schema.conversations.types import Comment
from subscriptions.live import Live, live
from subscriptions.streams import ScopedEvent

COMMENT_ADDED = frozenset({"CommentAdded"})
COMMENT_TARGETS = ("Estimate", "Invoice", "Project")


async def comment_target(event: ScopedEvent, comment_id: int) -> tuple[str, int] | None:
    """``(type, pk)`` of what the comment is on, read through the subscriber's scope (once per scope)."""

    async def read() -> tuple[str, int] | None:
        columns = (T_COMMENT.c.estimate_id, T_COMMENT.c.invoice_id, T_COMMENT.c.project_id)
        stmt = event.scope.select(T_COMMENT, *columns).where(T_COMMENT.c.id == comment_id)
        async with event.loaders.db.session() as session:
            row = (await session.execute(stmt)).one_or_none()
        if row is None:
            return None
        return next((kind, pk) for kind, pk in zip(COMMENT_TARGETS, row, strict=True) if pk is not None)

    return await event.memo(("comment_target", comment_id), read)


async def visible_target(ctx: Context, target_id: strawberry.ID) -> tuple[str, int]:
    """The ``(type, pk)`` of an estimate, invoice or project the subscriber may see; NOT_FOUND otherwise."""
    decoded = from_global_id(target_id)
    if decoded is not None and decoded[0] in COMMENT_TARGETS:
        kind, pk = decoded
        loaders = Loaders(ctx.db, ctx.scope)
        loader: Any = {"Estimate": loaders.estimate, "Invoice": loaders.invoice, "Project": loaders.project}[kind]
        if await loader.load(pk) is not None:
            return kind, pk
    raise top_level_error(TopLevelCode.NOT_FOUND, "No estimate, invoice or project with this id.", field="targetId")


async def _comment(event: ScopedEvent) -> Comment | None:
    if event.payload.get("shown") and event.scope.is_staff:
        return None  # (staff had it when it was written; only the portal sees it arrive now)
    return await event.loaders.comment.load(int(event.payload["comment_id"]))


@strawberry.type
class Subscription:
    # The field checks the viewer (and its arguments) before returning its stream, so a refusal is the protocol's
    # `error` message for the operation rather than a `next` carrying errors. Payloads are built once per event and
    # scope and executed once per audience (``subscriptions.audiences``); None means the subscriber may not see it.

    @strawberry.subscription(
        description="A new comment you may see: staff, any comment of the organization; portal users, comments "
        "visible in the portal on their own contact's documents and projects (a staff comment arrives when it is "
        "written visible, or when staff make it visible later). With `targetId`, only comments on that estimate, "
        "invoice or project (NOT_FOUND when you may not see it)."
    )
    async def comment_added(
        self, info: strawberry.Info, target_id: strawberry.ID | None = None
    ) -> AsyncIterator[Comment]:
        ctx: Context = info.context
        ctx.require_viewer()
        target = await visible_target(ctx, target_id) if target_id is not None else None

        async def on_target(event: ScopedEvent) -> bool:
            return await comment_target(event, int(event.payload["comment_id"])) == target

        return live(info, Live("commentAdded", COMMENT_ADDED, _comment, accept=on_target if target else None))
