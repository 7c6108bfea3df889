"""recordView: the portal opened an estimate or an invoice.

The first view by a portal user sets ``viewed``, ``viewedAt`` and ``viewedBy`` (one conditional UPDATE, so two
first views at once still make exactly one), writes a ``viewed`` history entry and, after commit, a
DocumentViewed event. Later views only add a ``viewed_again`` entry (staff-only history). Staff views never count.
"""

from __future__ import annotations

from typing import Any

import strawberry
from sqlalchemy import Table, func, update

from core.auth import PortalViewer
from core.context import Context
from core.errors import DomainError
from core.ids import from_global_id
from core.scope import T_ESTIMATE, T_INVOICE
from resolvers.common import record_action, returns_errors
from resolvers.loaders import reload
from schema.documents.mutations import RecordViewError, RecordViewResult
from schema.estimates.types import Estimate
from schema.invoices.types import Invoice
from services.documents.history import actor_name
from subscriptions.events import DocumentViewed, emit

TABLES: dict[str, tuple[Table, str]] = {"Estimate": (T_ESTIMATE, "ESTIMATE"), "Invoice": (T_INVOICE, "INVOICE")}


def _target(global_id: str) -> tuple[str, int]:
    decoded = from_global_id(global_id)
    if decoded is None or decoded[0] not in TABLES:
        raise DomainError("NOT_FOUND", "No estimate or invoice with this id.", "id")
    return decoded


async def _load(ctx: Context, type_name: str, pk: int) -> Estimate | Invoice | None:
    loader: Any = ctx.loaders.estimate if type_name == "Estimate" else ctx.loaders.invoice
    return await reload(loader, pk)  # type: ignore[no-any-return]


@returns_errors(RecordViewError)
async def record_view(info: strawberry.Info, id: strawberry.ID) -> RecordViewResult:
    """Portal: note that the viewer opened this estimate or invoice. Staff: returns it and records nothing."""
    ctx: Context = info.context
    viewer = ctx.require_viewer()
    type_name, pk = _target(id)
    if isinstance(viewer, PortalViewer):
        await _record(ctx, viewer, type_name, pk)
    document = await _load(ctx, type_name, pk)
    if document is None:
        raise DomainError("NOT_FOUND", "No estimate or invoice with this id.", "id")
    return document


async def _record(ctx: Context, viewer: PortalViewer, type_name: str, pk: int) -> None:
    table, document_type = TABLES[type_name]
    label = type_name.lower()
    async with ctx.db.transaction() as session:
        first = (
            await session.execute(
                update(table)
                .where(*ctx.scope.conditions(table), table.c.id == pk, table.c.viewed_at.is_(None))
                .values(viewed_at=func.now(), viewed_by_id=viewer.contact_person_id)
                .returning(table.c.contact_id, table.c.number, table.c.viewed_at)
            )
        ).one_or_none()
        row = first
        if row is None:
            row = (
                await session.execute(
                    ctx.scope.select(table, table.c.contact_id, table.c.number).where(table.c.id == pk)
                )
            ).one_or_none()
            if row is None:
                raise DomainError("NOT_FOUND", "No estimate or invoice with this id.", "id")
        name = await actor_name(session, viewer)
        await record_action(
            ctx,
            session,
            kind="viewed" if first else "viewed_again",
            description=f"{type_name} {row.number} {'viewed' if first else 'viewed again'} by {name}",
            contact_id=row.contact_id,
            client_visible=first is not None,
            actor_name=name,
            **{f"{label}_id": pk},
        )
        if first is not None:
            emit(
                session,
                ctx.broker,
                viewer.organization_id,
                DocumentViewed(
                    document_type=document_type,  # type: ignore[arg-type]
                    document_id=pk,
                    contact_id=first.contact_id,
                    contact_person_id=viewer.contact_person_id,
                    viewed_at=first.viewed_at,
                ),
            )


@strawberry.type
class Mutation:
    record_view: RecordViewResult = strawberry.field(resolver=record_view)
