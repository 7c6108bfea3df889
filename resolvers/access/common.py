"""What the access operations share: whose account a request concerns (the viewer's own row, or who may sign in
with an email), opening a session for it, the throttle of its secrets, its history entries, session cookies and
switching a request to a new session."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import Select, Table, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from core.auth import IssuedSession, PortalViewer, StaffViewer, Viewer, authenticate, issue_session
from core.context import Context
from core.scope import T_CONTACT_PERSON, T_ORGANIZATION, T_STAFF_USER
from core.security import csrf_token_for
from models.contacts import PortalStatus
from resolvers.common import record_action
from schema.access.types import Session, SessionTransport, StaffUser
from schema.contacts.types import ContactPerson
from services.access import throttle, tokens
from services.documents.history import record_activity

MAX_EMAIL = 320
MAX_PORTAL_SLUG = 63


def set_session_cookies(ctx: Context, token: str, max_age: int) -> None:
    """Web clients: the session in an HttpOnly cookie, and a readable CSRF cookie to echo in X-CSRF-Token."""
    response = ctx.response
    if response is None or not hasattr(response, "set_cookie"):
        return
    settings = ctx.settings
    shared = {"samesite": settings.cookie_samesite, "secure": settings.secure_cookies, "domain": settings.cookie_domain}
    response.set_cookie(settings.session_cookie_name, token, max_age=max_age, httponly=True, **shared)
    response.set_cookie(  # bound to this session: the header must carry this value (core/http.py)
        settings.csrf_cookie_name, csrf_token_for(token), max_age=max_age, httponly=False, **shared
    )


def clear_session_cookies(ctx: Context) -> None:
    response = ctx.response
    if response is not None and hasattr(response, "delete_cookie"):
        settings = ctx.settings
        shared = {"samesite": settings.cookie_samesite, "secure": settings.secure_cookies}
        for name in (settings.session_cookie_name, settings.csrf_cookie_name):
            response.delete_cookie(
                name, domain=settings.cookie_domain, httponly=name == settings.session_cookie_name, **shared
            )


def chosen_transport(ctx: Context, asked: SessionTransport | None) -> SessionTransport:
    """The transport a signing-in client gets: the one it asked for, else COOKIE for a browser (its requests carry
    ``Origin``) and TOKEN for the rest; a websocket cannot set cookies: TOKEN."""
    request = ctx.request
    if not isinstance(request, Request):
        return SessionTransport.TOKEN
    if asked is not None:
        return asked
    return SessionTransport.COOKIE if request.headers.get("origin") else SessionTransport.TOKEN


async def signed_in(ctx: Context, token: str, transport: SessionTransport) -> None:
    """From here on the request acts as the new session's viewer (the Session payload may ask for related
    objects, e.g. ``viewer { ... on StaffUser { organization { name } } }``); a COOKIE client gets the cookies."""
    ctx.viewer = await authenticate(ctx.db, ctx.settings, token)
    ctx.auth_problem = None
    ctx.__dict__.pop("_request_loaders", None)  # loaders made for the anonymous request are not the viewer's
    if transport is SessionTransport.COOKIE:
        set_session_cookies(ctx, token, ctx.settings.session_absolute_timeout_hours * 3600)


def subject_columns(table: Table, pk: int) -> dict[str, int | None]:
    """The subject columns of tokens, sessions and recovery codes for the account ``pk`` of ``table``."""
    return {"staff_user_id": pk} if table is T_STAFF_USER else {"contact_person_id": pk}


def subject(viewer: Viewer) -> tuple[Table, int, dict[str, int | None]]:
    """The viewer's table, primary key and the subject columns of tokens and sessions."""
    if isinstance(viewer, StaffViewer):
        table, pk = T_STAFF_USER, viewer.staff_user_id
    else:
        assert isinstance(viewer, PortalViewer)
        table, pk = T_CONTACT_PERSON, viewer.contact_person_id
    return table, pk, subject_columns(table, pk)


def sign_in_names(email: str, portal: str | None) -> tuple[str, str | None]:
    """The email and portal slug of a sign-in form as they are stored (trimmed, lower-cased, bounded)."""
    return (
        email.strip().lower()[:MAX_EMAIL],
        portal.strip().lower()[:MAX_PORTAL_SLUG] if portal is not None else None,
    )


def account_query(portal: str | None, email: str, *columns: Any) -> tuple[Table, Select[Any]]:
    """Who may sign in (or reset a password) with ``email``: with no portal named, an active staff user; else an
    ACTIVE contact person of that portal while it is enabled. The account's table, and the query of its row (with
    ``columns`` of the organization, say)."""
    if portal is None:
        table = T_STAFF_USER
        conditions = [T_STAFF_USER.c.email == email, T_STAFF_USER.c.is_active.is_(True)]
    else:
        table = T_CONTACT_PERSON
        conditions = [
            T_ORGANIZATION.c.portal_slug == portal,
            T_ORGANIZATION.c.portal_enabled.is_(True),
            T_CONTACT_PERSON.c.email == email,
            T_CONTACT_PERSON.c.portal_status == PortalStatus.ACTIVE,
        ]
    stmt = select(table, *columns).join(T_ORGANIZATION, T_ORGANIZATION.c.id == table.c.organization_id)
    return table, stmt.where(*conditions)


def secret_keys(ctx: Context, viewer: Viewer) -> list[throttle.ThrottleKey]:
    """The throttle keys of a password or code check by the viewer: the viewer and the client address."""
    table, pk, _ = subject(viewer)
    kind = "staff" if table is T_STAFF_USER else "person"
    return throttle.secret_keys(subject=f"{kind}:{pk}", client_ip=ctx.client_ip)


@asynccontextmanager
async def redeeming(ctx: Context, kind: str, token: str) -> AsyncIterator[tuple[AsyncSession, Any]]:
    """The transaction that uses a single-use link (an invitation or a password reset): the token redeemed in it
    (UNKNOWN_TOKEN, TOKEN_EXPIRED, … otherwise) and the client address throttled around it — a token cannot be
    guessed, but spraying guesses is stopped all the same."""
    keys = throttle.address_keys(ctx.client_ip)
    await throttle.reserve(ctx.db, keys, ctx.settings)
    async with ctx.db.transaction() as session:
        redeemed = await tokens.redeem_token(session, kind=kind, token=token)
        yield session, redeemed
        await throttle.succeeded(session, keys)


async def account_row(session: AsyncSession, table: Table, pk: int, *, lock: bool = False) -> Any:
    stmt = select(table).where(table.c.id == pk)
    return (await session.execute(stmt.with_for_update() if lock else stmt)).one()


async def own_row(session: AsyncSession, viewer: Viewer, *, lock: bool = False) -> Any:
    table, pk, _ = subject(viewer)
    return await account_row(session, table, pk, lock=lock)


async def store_password(session: AsyncSession, table: Table, pk: int, password_hash: str, **values: Any) -> Any:
    """Write the account's new password hash (and ``values``); the row as it is now."""
    stmt = update(table).where(table.c.id == pk).values(password_hash=password_hash, **values).returning(table)
    return (await session.execute(stmt)).one()


async def record_own_change(
    ctx: Context, session: AsyncSession, row: Any, *, kind: str, description: str, **entry: Any
) -> None:
    """History: the viewer changed their own account ``row`` (filed under their contact when they are a client)."""
    await record_action(
        ctx, session, kind=kind, description=description, contact_id=getattr(row, "contact_id", None), **entry
    )


async def record_redeemed(
    ctx: Context, session: AsyncSession, account: Any, *, kind: str, description: str, **entry: Any
) -> None:
    """History: the owner of ``account`` used a single-use link (an invitation, a password reset). Nobody is signed
    in yet, so the entry names no viewer; it is filed under the account's organization (and contact, for a client),
    with the client address."""
    await record_activity(
        session,
        viewer=None,
        organization_id=account.organization_id,
        contact_id=getattr(account, "contact_id", None),
        kind=kind,
        description=description,
        ip_address=ctx.client_ip,
        **entry,
    )


async def open_session(ctx: Context, session: AsyncSession, table: Table, row: Any) -> IssuedSession:
    """A new session of the account ``row`` of ``table``, from this request's client."""
    return await issue_session(
        session,
        ctx.settings,
        organization_id=row.organization_id,
        user_agent=ctx.user_agent,
        ip_address=ctx.client_ip,
        **subject_columns(table, row.id),
    )


def viewer_object(table: Table, row: Any) -> StaffUser | ContactPerson:
    return StaffUser.from_row(row) if table is T_STAFF_USER else ContactPerson.from_row(row)


async def session_result(
    ctx: Context, issued: IssuedSession, table: Table, row: Any, asked: SessionTransport | None
) -> Session:
    """The answer of a mutation that signs in: the session by the transport chosen (``chosen_transport``), with
    the request now acting as its viewer."""
    transport = chosen_transport(ctx, asked)
    await signed_in(ctx, issued.token, transport)
    cookie = transport is SessionTransport.COOKIE
    return Session(
        token=None if cookie else issued.token,
        csrf_token=csrf_token_for(issued.token) if cookie else None,
        transport=transport,
        expires_at=issued.expires_at,
        viewer=viewer_object(table, row),
    )
