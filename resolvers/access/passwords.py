"""changePassword, requestPasswordReset and resetPassword."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import strawberry
from sqlalchemy import Table, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.auth import revoke_sessions
from core.context import Context
from core.errors import DomainError
from core.scope import T_CONTACT_PERSON, T_ORGANIZATION, T_STAFF_USER
from core.security import hash_password, verify_password
from core.settings import Settings
from resolvers.access.common import (
    account_query,
    account_row,
    open_session,
    own_row,
    record_own_change,
    record_redeemed,
    redeeming,
    secret_keys,
    session_result,
    sign_in_names,
    store_password,
    subject,
    subject_columns,
    viewer_object,
)
from resolvers.common import returns_errors
from schema.access.mutations import (
    ChangePasswordError,
    ChangePasswordInput,
    ChangePasswordResult,
    RequestPasswordResetInput,
    RequestPasswordResetPayload,
    ResetPasswordError,
    ResetPasswordInput,
    ResetPasswordResult,
)
from services.access import passwords, throttle, tokens
from services.access.tokens import T_TOKEN
from services.mail import outbox as mail
from services.mail.render import render_mail

RESETS_PER_HOUR = 3


def _wrong_password() -> DomainError:
    return DomainError("WRONG_PASSWORD", "The current password is not right.", "currentPassword")


@returns_errors(ChangePasswordError)
async def change_password(info: strawberry.Info, input: ChangePasswordInput) -> ChangePasswordResult:
    """Change the viewer's own password; the viewer's other sessions end, nobody else's."""
    ctx: Context = info.context
    viewer = ctx.require_viewer()
    settings = ctx.settings
    table, pk, owner = subject(viewer)
    # what the new password is wrong with says nothing about the current one: answered before an attempt is spent
    if input.new_password == input.current_password:
        raise DomainError("SAME_PASSWORD", "Choose a password different from the current one.", "newPassword")
    async with ctx.db.session() as session:
        row = await own_row(session, viewer)
    passwords.check_password_policy(input.new_password, row.email, "newPassword")
    keys = secret_keys(ctx, viewer)
    await throttle.reserve(ctx.db, keys, ctx.settings)  # a session is not a licence to guess the password
    if not await asyncio.to_thread(verify_password, settings, row.password_hash, input.current_password):
        raise _wrong_password()
    new_hash = await asyncio.to_thread(hash_password, settings, input.new_password)
    async with ctx.db.transaction() as session:
        if (await own_row(session, viewer, lock=True)).password_hash != row.password_hash:
            raise _wrong_password()  # changed (or reset) since it was checked: it is no longer the current one
        row = await store_password(session, table, pk, new_hash)
        await throttle.succeeded(session, keys)
        revoked = await revoke_sessions(session, **owner, except_session_id=viewer.session_id)
        await record_own_change(
            ctx,
            session,
            row,
            kind="password_changed",
            description="Password changed",
            details={"sessions_revoked": len(revoked)},
        )
    return viewer_object(table, row)


async def request_password_reset(
    info: strawberry.Info, input: RequestPasswordResetInput
) -> RequestPasswordResetPayload:
    """Email a reset link if the account exists; the answer is the same either way."""
    ctx: Context = info.context
    email, portal = sign_in_names(input.email, input.portal)
    table, stmt = account_query(portal, email, T_ORGANIZATION.c.name.label("organization_name"))
    async with ctx.db.transaction() as session:
        # the account row stays locked to the commit: parallel requests count the recent links one after another
        account = (await session.execute(stmt.with_for_update(of=table))).one_or_none()
        if account is not None and await _recent_resets(session, table, account.id) < RESETS_PER_HOUR:
            await _send_reset_link(session, ctx.settings, table, account)  # else quietly: no mail-bombing an inbox
    if account is not None:
        ctx.after_commit_mail()
    return RequestPasswordResetPayload(accepted=True)


async def _recent_resets(session: AsyncSession, table: Table, pk: int) -> int:
    """How many reset links the account got in the last hour."""
    column = T_TOKEN.c.staff_user_id if table is T_STAFF_USER else T_TOKEN.c.contact_person_id
    recent = await session.scalar(
        select(func.count()).where(
            column == pk, T_TOKEN.c.kind == "RESET", T_TOKEN.c.created_at > datetime.now(UTC) - timedelta(hours=1)
        )
    )
    return recent or 0


async def _send_reset_link(session: AsyncSession, settings: Settings, table: Table, account: Any) -> None:
    """A new reset token for ``account``, and the mail with its link (in the outbox, sent after commit)."""
    token = await tokens.issue_token(
        session,
        kind="RESET",
        organization_id=account.organization_id,
        ttl=timedelta(minutes=settings.reset_ttl_minutes),
        **subject_columns(table, account.id),
    )
    message = render_mail(
        "reset",
        to=account.email,
        subject=f"Reset your {account.organization_name} password",
        name=getattr(account, "first_name", None) or account.name,
        link=f"{settings.public_portal_url.rstrip('/')}/reset-password/{token}",
        organization_name=account.organization_name,
        ttl_minutes=settings.reset_ttl_minutes,
    )
    await mail.enqueue(session, message, kind="password_reset", organization_id=account.organization_id)


@returns_errors(ResetPasswordError)
async def reset_password(info: strawberry.Info, input: ResetPasswordInput) -> ResetPasswordResult:
    """Set a new password from a reset link; every session of that account ends, and a new one starts."""
    ctx: Context = info.context
    async with redeeming(ctx, "RESET", input.token) as (session, token):
        table = T_STAFF_USER if token.staff_user_id else T_CONTACT_PERSON
        pk = token.staff_user_id or token.contact_person_id
        row = await account_row(session, table, pk, lock=True)
        row = await store_password(
            session, table, pk, await passwords.hash_new_password(ctx.settings, input.password, row.email)
        )
        revoked = await revoke_sessions(session, **subject_columns(table, pk))
        await record_redeemed(
            ctx,
            session,
            row,
            kind="password_reset",
            description=f"Password reset by {row.email}",
            details={"sessions_revoked": len(revoked)},
        )
        issued = await open_session(ctx, session, table, row)
    return await session_result(ctx, issued, table, row, input.transport)


@strawberry.type
class Mutation:
    change_password: ChangePasswordResult = strawberry.field(resolver=change_password)
    request_password_reset: RequestPasswordResetPayload = strawberry.field(resolver=request_password_reset)
    reset_password: ResetPasswordResult = strawberry.field(resolver=reset_password)
