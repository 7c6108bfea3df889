"""What the estimate and invoice mutations share: set fields, line totals, locking and re-reading a document."""

from __future__ import annotations

from typing import Any, Literal

import strawberry
from sqlalchemy import func, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.auth import StaffViewer
from core.context import Context
from core.errors import DomainError
from core.scope import T_ESTIMATE, T_INVOICE
from resolvers.loaders import reload
from services.documents.history import record_activity
from services.documents.lines import LineDraft, replace_line_items
from subscriptions.events import DocumentStatusChanged, emit

DocumentKind = Literal["estimate", "invoice"]


TABLES = {"estimate": T_ESTIMATE, "invoice": T_INVOICE}


def given_fields(input: object, names: tuple[str, ...]) -> dict[str, Any]:
    """The fields of ``input`` the client set (null included), leaving out those it did not send."""
    return {name: getattr(input, name) for name in names if getattr(input, name) is not strawberry.UNSET}


async def store_lines(
    session: AsyncSession,
    *,
    kind: DocumentKind,
    organization_id: int,
    document_pk: int,
    lines: list[LineDraft],
    currency: str,
) -> dict[str, Any]:
    """Replace the document's lines; returns the totals columns to store on it."""
    totals = await replace_line_items(
        session, organization_id=organization_id, owner=kind, owner_id=document_pk, lines=lines, currency=currency
    )
    return {"subtotal": totals.subtotal, "tax_total": totals.tax_total, "total": totals.total}


async def lock_document(session: AsyncSession, ctx: Context, kind: DocumentKind, pk: int) -> Any:
    """The document's row, locked for the transaction; NOT_FOUND outside the viewer's scope."""
    table = TABLES[kind]
    row = (await session.execute(ctx.scope.where_id(table, pk).with_for_update())).one_or_none()
    if row is None:
        raise DomainError("NOT_FOUND", f"No {kind} with this id.", "id")
    return row


async def reload_document(ctx: Context, kind: DocumentKind, pk: int) -> Any:
    """The document as the viewer now sees it (a request may change it twice: never from the loader's cache)."""
    return await reload(ctx.loaders.estimate if kind == "estimate" else ctx.loaders.invoice, pk)


async def mark_sent(session: AsyncSession, ctx: Context, viewer: StaffViewer, kind: DocumentKind, current: Any) -> None:
    """Send a locked document: DRAFT becomes SENT (an event for live screens); every send goes to the history."""
    table = TABLES[kind]
    first_time = current.status == "DRAFT"
    if first_time:
        await session.execute(
            update(table)
            .where(table.c.id == current.id)
            .values(status="SENT", sent_at=func.now(), updated_at=func.now())
        )
        emit(
            session,
            ctx.broker,
            viewer.organization_id,
            DocumentStatusChanged(
                document_type="ESTIMATE" if kind == "estimate" else "INVOICE",
                document_id=current.id,
                contact_id=current.contact_id,
                previous_status="DRAFT",
                status="SENT",
                actor_staff_id=viewer.staff_user_id,
            ),
        )
    await record_activity(
        session,
        viewer=viewer,
        organization_id=viewer.organization_id,
        contact_id=current.contact_id,
        kind="sent",
        description=f"{kind.capitalize()} {current.number} {'sent' if first_time else 'sent again'}",
        client_visible=True,
        ip_address=ctx.client_ip,
        **{f"{kind}_id": current.id},
    )
