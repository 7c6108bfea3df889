"""Comment threads on estimates, invoices and projects: reading them, adding to them, and (staff) choosing which
staff comments the portal shows."""

from __future__ import annotations

from typing import Any

import strawberry
from sqlalchemy import insert, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ColumnElement

from core import validation
from core.auth import PortalViewer, StaffViewer
from core.context import Context
from core.errors import DomainError, not_found
from core.ids import from_global_id
from core.scope import T_COMMENT, T_ESTIMATE, T_INVOICE, T_PROJECT
from resolvers import reads
from resolvers.common import create_once, one_or_raise, pk_of, record_action, returns_errors
from resolvers.loaders import reload
from resolvers.pagination import Paging, paginate
from resolvers.reads import OWNERS, owner_kind
from schema.base import Connection
from schema.conversations.mutations import (
    MAX_COMMENT,
    AddCommentError,
    AddCommentInput,
    AddCommentResult,
    SetCommentVisibilityError,
    SetCommentVisibilityResult,
)
from schema.conversations.types import Comment
from schema.estimates.types import Estimate
from schema.invoices.types import Invoice
from schema.projects.types import Project
from services.documents.history import name_of
from services.mail import notifications
from subscriptions.events import CommentAdded, emit

TARGETS = {"Estimate": T_ESTIMATE, "Invoice": T_INVOICE, "Project": T_PROJECT}


def _no_target() -> DomainError:
    return not_found("No estimate, invoice or project with this id.", "targetId")


async def comments_on(
    info: strawberry.Info, target: Estimate | Invoice | Project, paging: Paging
) -> Connection[Comment]:
    """The comments on ``target`` that the viewer may see, oldest first."""
    ctx: Context = info.context
    owner = OWNERS[owner_kind(target)]
    column = T_COMMENT.c[f"{owner.name}_id"]
    return await paginate(
        ctx.db,
        reads.comments(ctx.scope, on=owner).where(column == target.pk),
        order=[T_COMMENT.c.id],
        kinds=[int],
        descending=False,
        paging=paging,
        to_node=Comment.from_row,
    )


def _target_id(target_id: strawberry.ID) -> tuple[str, int]:
    """``(type, pk)`` of the estimate, invoice or project a comment goes on; NOT_FOUND for any other id."""
    decoded = from_global_id(target_id)
    if decoded is None or decoded[0] not in TARGETS:
        raise _no_target()
    return decoded


async def _visible_target(ctx: Context, session: AsyncSession, type_name: str, target_pk: int) -> tuple[Any, str]:
    """The target's row and its label for the history (``invoice INV-0001``, ``project Website``), read through the
    viewer's scope: a portal user comments only on their contact's non-draft documents and shown projects. A client's
    comment mails staff: the row then also carries what the mail needs (``notification_head``)."""
    table = TARGETS[type_name]
    label: ColumnElement[str] = table.c.name if type_name == "Project" else table.c.number
    columns: list[Any] = [table, label.label("comment_label")]
    viewer = ctx.require_viewer()
    if notifications.wants_notification("commented", viewer):  # what the staff mail needs, read with the target
        person_id = viewer.contact_person_id if isinstance(viewer, PortalViewer) else None
        head = notifications.head_column(viewer.organization_id, table.c.contact_id, person_id)
        columns.append(head.label("notification_head"))
    stmt = ctx.scope.select(table, *columns).where(table.c.id == target_pk)
    target = await one_or_raise(session, stmt, _no_target())
    return target, f"{type_name.lower()} {target.comment_label}"


@returns_errors(AddCommentError)
async def add_comment(info: strawberry.Info, input: AddCommentInput) -> AddCommentResult:
    """Comment on an estimate, invoice or project the viewer can see.

    A client's comment is visible to staff and to every portal person of the contact; a staff comment reaches the
    portal only with ``visibleInPortal``.
    """
    ctx: Context = info.context
    viewer = ctx.require_viewer()
    type_name, target_pk = _target_id(input.target_id)
    body = validation.required_text(input.body, "body", max_length=MAX_COMMENT)
    client = isinstance(viewer, PortalViewer)
    visible = True if client else bool(input.visible_in_portal)
    on_target = {f"{type_name.lower()}_id": target_pk}
    added: list[Comment] = []  # the comment as written (none on an idempotent replay)

    async def add(session: AsyncSession) -> int:
        target, label = await _visible_target(ctx, session, type_name, target_pk)
        written = insert(T_COMMENT).values(
            organization_id=viewer.organization_id,
            contact_id=target.contact_id,
            author_staff_id=viewer.staff_user_id if isinstance(viewer, StaffViewer) else None,
            author_contact_person_id=viewer.contact_person_id if client else None,
            body=body,
            visible_in_portal=visible,
            **on_target,
        )
        # the author is the viewer: their name as the comment loader would join it
        row = (await session.execute(written.returning(T_COMMENT, name_of(viewer).label("author_name")))).one()
        await record_action(
            ctx,
            session,
            kind="commented",
            description=f"{'Client' if client else 'Staff'} comment on {label}",
            contact_id=target.contact_id,
            client_visible=visible,
            details={"comment_id": row.id, "author": "client" if client else "staff"},
            head=getattr(target, "notification_head", None),
            document=target,
            quote=body,
            **on_target,
        )
        emit(session, ctx.broker, viewer.organization_id, CommentAdded(comment_id=row.id, contact_id=target.contact_id))
        added.append(Comment.from_row(row))
        return int(row.id)

    comment_pk = await create_once(ctx, operation="addComment", input=input, result_type="Comment", create=add)
    if added:  # the viewer wrote it, so may see it: the row the insert returned is what a read would give
        return added[0]
    return await ctx.loaders.comment.load(comment_pk)  # type: ignore[return-value]


@returns_errors(SetCommentVisibilityError)
async def set_comment_visibility(
    info: strawberry.Info,
    id: strawberry.ID,
    visible_in_portal: bool,
) -> SetCommentVisibilityResult:
    """Staff: show a staff comment in the portal, or hide it again. Clients' comments are always visible."""
    ctx: Context = info.context
    ctx.require_staff()
    comment_pk = pk_of(id, "Comment")
    async with ctx.db.transaction() as session:
        current = await one_or_raise(
            session, ctx.scope.where_id(T_COMMENT, comment_pk).with_for_update(), not_found("No comment with this id.")
        )
        if current.author_contact_person_id is not None:
            raise DomainError("INVALID_STATE", "A client's comment is always visible to the client.", "id")
        if current.visible_in_portal != visible_in_portal:
            await session.execute(
                update(T_COMMENT).where(T_COMMENT.c.id == comment_pk).values(visible_in_portal=visible_in_portal)
            )
            await record_action(
                ctx,
                session,
                contact_id=current.contact_id,
                estimate_id=current.estimate_id,
                invoice_id=current.invoice_id,
                project_id=current.project_id,
                kind="comment_visibility_changed",
                description="Comment shown in the portal" if visible_in_portal else "Comment hidden from the portal",
                details={"comment_id": comment_pk, "visible_in_portal": visible_in_portal},
            )
            if visible_in_portal:  # the portal's subscribers get it now, as they get a new one
                emit(
                    session,
                    ctx.broker,
                    current.organization_id,
                    CommentAdded(comment_pk, current.contact_id, shown=True),
                )
    return await reload(ctx.loaders.comment, comment_pk)  # type: ignore[return-value]


@strawberry.type
class Mutation:
    add_comment: AddCommentResult = strawberry.field(resolver=add_comment)
    set_comment_visibility: SetCommentVisibilityResult = strawberry.field(
        resolver=set_comment_visibility,
        description="Staff: show a staff comment in the portal or hide it (visibleInPortal).",
    )
