"""login, logout and me."""

from __future__ import annotations

import asyncio
from typing import Any

import strawberry
from sqlalchemy import Table, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.auth import PortalViewer, StaffViewer, issue_session, revoke_sessions
from core.context import Context
from core.errors import DomainError
from core.scope import T_CONTACT_PERSON, T_ORGANIZATION, T_STAFF_USER
from core.security import hash_password, needs_rehash, verify_password
from resolvers.access.common import clear_session_cookies, signed_in
from resolvers.common import returns_errors
from schema.access.mutations import LoginError, LoginInput, LoginResult
from schema.access.types import Session, StaffUser, Viewer
from schema.contacts.types import ContactPerson
from services.access import throttle
from services.access import two_factor as second_factor

BAD_CREDENTIALS = "The email or password is not right."


async def _find_account(ctx: Context, portal: str | None, email: str) -> tuple[Any, Table] | None:
    """The staff user (no portal) or the ACTIVE portal person of that portal with this email."""
    async with ctx.db.session() as session:
        if portal is None:
            stmt = select(T_STAFF_USER).where(T_STAFF_USER.c.email == email, T_STAFF_USER.c.is_active.is_(True))
            table = T_STAFF_USER
        else:
            stmt = (
                select(T_CONTACT_PERSON)
                .join(T_ORGANIZATION, T_ORGANIZATION.c.id == T_CONTACT_PERSON.c.organization_id)
                .where(
                    T_ORGANIZATION.c.portal_slug == portal,
                    T_ORGANIZATION.c.portal_enabled.is_(True),
                    T_CONTACT_PERSON.c.email == email,
                    T_CONTACT_PERSON.c.portal_status == "ACTIVE",
                )
            )
            table = T_CONTACT_PERSON
        row = (await session.execute(stmt)).one_or_none()
    return (row, table) if row is not None else None


async def _check_second_factor(session: AsyncSession, row: Any, table: Table, otp: str) -> None:
    """A TOTP code not used before, or an unused recovery code; the row stays locked until the session is issued,
    so one code signs in once however many requests carry it."""
    locked = (await session.execute(select(table).where(table.c.id == row.id).with_for_update())).one()
    if locked.totp_enabled_at is None:
        return  # turned off since the password was checked
    owner = {"staff_user_id": row.id} if table is T_STAFF_USER else {"contact_person_id": row.id}
    if not await second_factor.use_second_factor(session, table, locked, otp, **owner):
        raise DomainError("OTP_INVALID", "That code is not right.", "otp")


@returns_errors(LoginError)
async def login(info: strawberry.Info, input: LoginInput) -> LoginResult:
    """Staff sign in with email and password; portal users add their organization's portal slug."""
    ctx: Context = info.context
    settings = ctx.settings
    email = input.email.strip().lower()[:320]
    portal = input.portal.strip().lower()[:63] if input.portal is not None else None
    keys = throttle.login_keys(portal=portal, email=email, client_ip=ctx.client_ip)
    # counted before the password is checked, so a parallel burst gets its free attempts checked and no more; a
    # wrong password or code needs no further write
    await throttle.reserve(ctx.db, keys)
    found = await _find_account(ctx, portal, email)
    # verify_password hashes even without an account, so unknown emails take as long as wrong passwords
    password_hash = found[0].password_hash if found else None
    # Argon2 is CPU-bound C code that releases the GIL: keep it off the event loop, and hold no connection meanwhile
    if not await asyncio.to_thread(verify_password, settings, password_hash, input.password) or found is None:
        raise DomainError("INVALID_CREDENTIALS", BAD_CREDENTIALS)
    row, table = found
    if row.totp_enabled_at is not None and not (input.otp and input.otp.strip()):
        raise DomainError("OTP_REQUIRED", "Enter the code from your authenticator app.", "otp")
    new_hash = None
    if needs_rehash(settings, row.password_hash):
        new_hash = await asyncio.to_thread(hash_password, settings, input.password)
    async with ctx.db.transaction() as session:
        if row.totp_enabled_at is not None:
            await _check_second_factor(session, row, table, input.otp or "")
        await throttle.succeeded(session, keys)
        if new_hash is not None:
            await session.execute(update(table).where(table.c.id == row.id).values(password_hash=new_hash))
        issued = await issue_session(
            session,
            settings,
            organization_id=row.organization_id,
            staff_user_id=row.id if table is T_STAFF_USER else None,
            contact_person_id=row.id if table is T_CONTACT_PERSON else None,
            user_agent=ctx.user_agent,
            ip_address=ctx.client_ip,
        )
    viewer: Viewer = StaffUser.from_row(row) if table is T_STAFF_USER else ContactPerson.from_row(row)
    await signed_in(ctx, issued.token)
    return Session(token=issued.token, expires_at=issued.expires_at, viewer=viewer)


async def logout(info: strawberry.Info) -> bool:
    """End the current session; true if there was one."""
    ctx: Context = info.context
    clear_session_cookies(ctx)
    if ctx.viewer is None:
        return False
    async with ctx.db.transaction() as session:
        revoked = await revoke_sessions(session, session_id=ctx.viewer.session_id)
    return bool(revoked)


async def me(info: strawberry.Info) -> Viewer | None:
    """The signed-in staff user or contact person; null when nobody is signed in."""
    ctx: Context = info.context
    viewer = ctx.viewer
    if isinstance(viewer, StaffViewer):
        async with ctx.db.session() as session:
            row = (await session.execute(select(T_STAFF_USER).where(T_STAFF_USER.c.id == viewer.staff_user_id))).one()
        return StaffUser.from_row(row)
    if isinstance(viewer, PortalViewer):
        return await ctx.loaders.contact_person.load(viewer.contact_person_id)
    if ctx.auth_problem:
        ctx.require_viewer()  # a bad token or a missing CSRF header is an error, not "nobody"
    return None


@strawberry.type
class Query:
    me: Viewer | None = strawberry.field(resolver=me, description="Who is signed in, or null.")


@strawberry.type
class Mutation:
    login: LoginResult = strawberry.field(resolver=login, description="Sign in; returns a session token.")
    logout: bool = strawberry.field(resolver=logout, description="Sign out of the current session.")
