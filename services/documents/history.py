"""The append-only activity history."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.auth import PortalViewer, StaffViewer, Viewer
from core.scope import T_ACTIVITY
from services.mail import notifications


async def record_activity(
    session: AsyncSession,
    *,
    viewer: Viewer | None,
    organization_id: int,
    kind: str,
    description: str,
    contact_id: int | None = None,
    estimate_id: int | None = None,
    invoice_id: int | None = None,
    project_id: int | None = None,
    client_visible: bool = False,
    ip_address: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Append a history entry inside the caller's transaction.

    Client actions (first view, accept, decline, client comment, payment, review) also enqueue the staff
    notification mails in the same transaction (``services.notifications``).
    """
    await session.execute(
        insert(T_ACTIVITY).values(
            organization_id=organization_id,
            contact_id=contact_id,
            estimate_id=estimate_id,
            invoice_id=invoice_id,
            project_id=project_id,
            kind=kind,
            actor_staff_id=viewer.staff_user_id if isinstance(viewer, StaffViewer) else None,
            actor_contact_person_id=viewer.contact_person_id if isinstance(viewer, PortalViewer) else None,
            client_visible=client_visible,
            details={"description": description, **(details or {})},
            ip_address=ip_address,
        )
    )
    if notifications.wants_notification(kind, viewer):
        await notifications.notify_staff(
            session,
            viewer=viewer,
            organization_id=organization_id,
            kind=kind,
            contact_id=contact_id,
            estimate_id=estimate_id,
            invoice_id=invoice_id,
            project_id=project_id,
            details=details,
        )
