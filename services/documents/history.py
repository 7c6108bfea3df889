"""The append-only activity history."""

from __future__ import annotations

import warnings
from typing import Any

from sqlalchemy import ScalarSelect, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.auth import PortalViewer, StaffViewer, Viewer
from core.scope import T_ACTIVITY, T_CONTACT_PERSON, T_STAFF_USER
from models.documents import ACTIVITY_KINDS
from services.mail import notifications

PERSON_NAME = func.concat_ws(" ", T_CONTACT_PERSON.c.first_name, T_CONTACT_PERSON.c.last_name)


class UnknownActivityKind(UserWarning):
    """A history entry whose kind is not in ``models.documents.ACTIVITY_KINDS``."""


def name_of(viewer: Viewer | None) -> ScalarSelect[Any] | None:
    """The viewer's name as a scalar subquery, to read with another statement (None: the system)."""
    if isinstance(viewer, StaffViewer):
        return select(T_STAFF_USER.c.name).where(T_STAFF_USER.c.id == viewer.staff_user_id).scalar_subquery()
    if isinstance(viewer, PortalViewer):
        return select(PERSON_NAME).where(T_CONTACT_PERSON.c.id == viewer.contact_person_id).scalar_subquery()
    return None


async def actor_name(session: AsyncSession, viewer: Viewer | None) -> str | None:
    """The viewer's name as it is now: a staff user's name, a portal person's first and last name (None: system)."""
    name = name_of(viewer)
    return None if name is None else await session.scalar(select(name))


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
    actor_name: str | None = None,
    head: dict[str, Any] | None = None,
    document: Any = None,
    quote: str | None = None,
    notify: bool = True,
) -> None:
    """Append a history entry inside the caller's transaction.

    The entry keeps the actor's name as it is now (``actor_name`` when the caller has read it already), so a later
    rename never rewrites what the history says. Client actions (first view, accept, decline, client comment,
    payment, review) also enqueue the staff notification mails in the same transaction
    (``services.mail.notifications``), written with the entry in one statement; what the caller has at hand is not
    read again (``head``: ``notifications.head_column`` read with the action's first statement; ``document``: the
    estimate's, invoice's or project's row as the action left it; ``quote``: the client's words, a comment's body).
    """
    if kind not in ACTIVITY_KINDS:  # (it would read as OTHER in the API: add it to models.documents.ACTIVITY_KINDS)
        warnings.warn(f"history entry of an unknown kind {kind!r}", UnknownActivityKind, stacklevel=2)
    entry = insert(T_ACTIVITY).values(
        organization_id=organization_id,
        contact_id=contact_id,
        estimate_id=estimate_id,
        invoice_id=invoice_id,
        project_id=project_id,
        kind=kind,
        actor_staff_id=viewer.staff_user_id if isinstance(viewer, StaffViewer) else None,
        actor_contact_person_id=viewer.contact_person_id if isinstance(viewer, PortalViewer) else None,
        actor_name=actor_name if actor_name is not None else name_of(viewer),
        client_visible=client_visible,
        details={"description": description, **(details or {})},
        ip_address=ip_address,
    )
    if not notify or not notifications.wants_notification(kind, viewer):  # (notify=False: the caller's mail says it)
        await session.execute(entry)
    else:
        action = notifications.ClientAction(
            viewer, organization_id, kind, contact_id, estimate_id, invoice_id, project_id, details or {}, head,
            document, quote,
        )  # fmt: skip
        await notifications.notify_staff(session, action, along=entry)
