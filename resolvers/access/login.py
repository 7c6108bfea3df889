"""login, logout and me."""

from __future__ import annotations

import asyncio
from typing import Any

import strawberry
from sqlalchemy import Table, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.auth import PortalViewer, StaffViewer, revoke_sessions
from core.context import Context
from core.errors import DomainError
from core.scope import T_STAFF_USER
from core.security import hash_password, needs_rehash, verify_password
from resolvers.access.common import (
    account_query,
    account_row,
    clear_session_cookies,
    open_session,
    session_result,
    sign_in_names,
    subject_columns,
)
from resolvers.common import returns_errors
from schema.access.mutations import LoginError, LoginInput, LoginResult
from schema.access.types import StaffUser, Viewer
from services.access import throttle
from services.access import two_factor as second_factor

BAD_CREDENTIALS = "The email or password is not right."


async def _find_account(ctx: Context, portal: str | None, email: str) -> tuple[Any, Table] | None:
    """The account that may sign in with this email (``account_query``), and its table."""
    table, stmt = account_query(portal, email)
    async with ctx.db.session() as session:
        row = (await session.execute(stmt)).one_or_none()
    return (row, table) if row is not None else None


async def _check_second_factor(session: AsyncSession, row: Any, table: Table, otp: str) -> None:
    """A TOTP code not used before, or an unused recovery code; the row stays locked until the session is issued,
    so one code signs in once however many requests carry it."""
    locked = await account_row(session, table, row.id, lock=True)
    if locked.totp_enabled_at is None:
        return  # turned off since the password was checked
    if not await second_factor.use_second_factor(session, table, locked, otp, **subject_columns(table, row.id)):
        raise DomainError("OTP_INVALID", "That code is not right.", "otp")


@returns_errors(LoginError)
async def login(info: strawberry.Info, input: LoginInput) -> LoginResult:
    """Staff sign in with email and password; portal users add their organization's portal slug."""
    ctx: Context = info.context
    settings = ctx.settings
    email, portal = sign_in_names(input.email, input.portal)
    keys = throttle.login_keys(portal=portal, email=email, client_ip=ctx.client_ip)
    # counted before the password is checked, so a parallel burst gets its free attempts checked and no more; a
    # wrong password or code needs no further write
    await throttle.reserve(ctx.db, keys, ctx.settings)
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
        issued = await open_session(ctx, session, table, row)
    return await session_result(ctx, issued, table, row, input.transport)


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
