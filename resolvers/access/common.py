"""What the access operations share: the viewer's own row, the throttle of its secrets and session cookies."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.auth import IssuedSession, PortalViewer, StaffViewer, Viewer
from core.context import Context
from core.scope import T_CONTACT_PERSON, T_STAFF_USER
from schema.access.types import Session, StaffUser
from schema.contacts.types import ContactPerson
from services.access import throttle


def subject(viewer: Viewer) -> tuple[Table, int, dict[str, int | None]]:
    """The viewer's table, primary key and the subject columns of tokens and sessions."""
    if isinstance(viewer, StaffViewer):
        return T_STAFF_USER, viewer.staff_user_id, {"staff_user_id": viewer.staff_user_id}
    assert isinstance(viewer, PortalViewer)
    return T_CONTACT_PERSON, viewer.contact_person_id, {"contact_person_id": viewer.contact_person_id}


def secret_keys(ctx: Context, viewer: Viewer) -> list[throttle.ThrottleKey]:
    """The throttle keys of a password or code check by the viewer: the viewer and the client address."""
    table, pk, _ = subject(viewer)
    kind = "staff" if table is T_STAFF_USER else "person"
    return throttle.secret_keys(subject=f"{kind}:{pk}", client_ip=ctx.client_ip)


async def own_row(session: AsyncSession, viewer: Viewer, *, lock: bool = False) -> Any:
    table, pk, _ = subject(viewer)
    stmt = select(table).where(table.c.id == pk)
    return (await session.execute(stmt.with_for_update() if lock else stmt)).one()


def viewer_object(table: Table, row: Any) -> StaffUser | ContactPerson:
    return StaffUser.from_row(row) if table is T_STAFF_USER else ContactPerson.from_row(row)


async def session_result(ctx: Context, issued: IssuedSession, table: Table, row: Any) -> Session:
    from resolvers.access.login import signed_in

    await signed_in(ctx, issued.token)
    return Session(token=issued.token, expires_at=issued.expires_at, viewer=viewer_object(table, row))
