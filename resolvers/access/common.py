"""What the access operations share: the viewer's own row, the throttle of its secrets, session cookies and
switching a request to a new session."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.auth import IssuedSession, PortalViewer, StaffViewer, Viewer, authenticate
from core.context import Context
from core.scope import T_CONTACT_PERSON, T_STAFF_USER
from core.security import csrf_token_for
from schema.access.types import Session, StaffUser
from schema.contacts.types import ContactPerson
from services.access import throttle


def set_session_cookies(ctx: Context, token: str, max_age: int) -> None:
    """Web clients: the session in an HttpOnly cookie, and a readable CSRF cookie to echo in X-CSRF-Token."""
    response = ctx.response
    if response is None or not hasattr(response, "set_cookie"):
        return
    secure = ctx.settings.secure_cookies
    response.set_cookie(
        ctx.settings.session_cookie_name, token, max_age=max_age, httponly=True, samesite="lax", secure=secure
    )
    response.set_cookie(  # bound to this session: the header must carry this value (core/http.py)
        ctx.settings.csrf_cookie_name,
        csrf_token_for(token),
        max_age=max_age,
        httponly=False,
        samesite="lax",
        secure=secure,
    )


def clear_session_cookies(ctx: Context) -> None:
    response = ctx.response
    if response is not None and hasattr(response, "delete_cookie"):
        response.delete_cookie(ctx.settings.session_cookie_name)
        response.delete_cookie(ctx.settings.csrf_cookie_name)


async def signed_in(ctx: Context, token: str) -> None:
    """From here on the request acts as the new session's viewer (the Session payload may ask for related
    objects, e.g. ``viewer { ... on StaffUser { organization { name } } }``); web clients get the cookies."""
    ctx.viewer = await authenticate(ctx.db, ctx.settings, token)
    ctx.auth_problem = None
    ctx.__dict__.pop("_request_loaders", None)  # loaders made for the anonymous request are not the viewer's
    set_session_cookies(ctx, token, ctx.settings.session_absolute_timeout_hours * 3600)


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
    from resolvers.access.common import signed_in

    await signed_in(ctx, issued.token)
    return Session(token=issued.token, expires_at=issued.expires_at, viewer=viewer_object(table, row))
