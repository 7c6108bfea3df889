"""changePassword, requestPasswordReset and resetPassword."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import strawberry
from sqlalchemy import func, select, update

from core.auth import issue_session, revoke_sessions
from core.context import Context
from core.errors import DomainError
from core.scope import T_CONTACT_PERSON, T_ORGANIZATION, T_STAFF_USER
from core.security import hash_password, verify_password
from resolvers.access.common import own_row, secret_keys, session_result, subject, viewer_object
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
from services.documents.history import record_activity
from services.mail import outbox as mail
from services.mail.render import render_mail

RESETS_PER_HOUR = 3


@returns_errors(ChangePasswordError)
async def change_password(info: strawberry.Info, input: ChangePasswordInput) -> ChangePasswordResult:
    """Change the viewer's own password; the viewer's other sessions end, nobody else's."""
    ctx: Context = info.context
    viewer = ctx.require_viewer()
    settings = ctx.settings
    table, pk, _ = subject(viewer)
    # what the new password is wrong with says nothing about the current one: answered before an attempt is spent
    if input.new_password == input.current_password:
        raise DomainError("SAME_PASSWORD", "Choose a password different from the current one.", "newPassword")
    async with ctx.db.session() as session:
        row = await own_row(session, viewer)
    passwords.check_password_policy(input.new_password, row.email, "newPassword")
    keys = secret_keys(ctx, viewer)
    await throttle.reserve(ctx.db, keys)  # a session is not a licence to guess the password
    if not await asyncio.to_thread(verify_password, settings, row.password_hash, input.current_password):
        raise DomainError("WRONG_PASSWORD", "The current password is not right.", "currentPassword")
    new_hash = await asyncio.to_thread(hash_password, settings, input.new_password)
    async with ctx.db.transaction() as session:
        if (await own_row(session, viewer, lock=True)).password_hash != row.password_hash:
            # changed (or reset) since it was checked: the password given is no longer the current one
            raise DomainError("WRONG_PASSWORD", "The current password is not right.", "currentPassword")
        row = (
            await session.execute(update(table).where(table.c.id == pk).values(password_hash=new_hash).returning(table))
        ).one()
        await throttle.succeeded(session, keys)
        revoked = await revoke_sessions(session, **_subject_kwargs(viewer), except_session_id=viewer.session_id)
        await record_activity(
            session,
            viewer=viewer,
            organization_id=viewer.organization_id,
            contact_id=getattr(row, "contact_id", None),
            kind="password_changed",
            description="Password changed",
            ip_address=ctx.client_ip,
            details={"sessions_revoked": len(revoked)},
        )
    return viewer_object(table, row)


def _subject_kwargs(viewer: object) -> dict[str, int | None]:
    return subject(viewer)[2]  # type: ignore[arg-type]


async def request_password_reset(
    info: strawberry.Info, input: RequestPasswordResetInput
) -> RequestPasswordResetPayload:
    """Email a reset link if the account exists; the answer is the same either way."""
    ctx: Context = info.context
    settings = ctx.settings
    email = input.email.strip().lower()[:320]
    portal = input.portal.strip().lower()[:63] if input.portal is not None else None
    async with ctx.db.transaction() as session:
        if portal is None:
            stmt = (
                select(T_STAFF_USER, T_ORGANIZATION.c.name.label("organization_name"))
                .join(T_ORGANIZATION, T_ORGANIZATION.c.id == T_STAFF_USER.c.organization_id)
                .where(T_STAFF_USER.c.email == email, T_STAFF_USER.c.is_active.is_(True))
                .with_for_update(of=T_STAFF_USER)
            )
        else:
            stmt = (
                select(T_CONTACT_PERSON, T_ORGANIZATION.c.name.label("organization_name"))
                .join(T_ORGANIZATION, T_ORGANIZATION.c.id == T_CONTACT_PERSON.c.organization_id)
                .where(
                    T_ORGANIZATION.c.portal_slug == portal,
                    T_ORGANIZATION.c.portal_enabled.is_(True),
                    T_CONTACT_PERSON.c.email == email,
                    T_CONTACT_PERSON.c.portal_status == "ACTIVE",
                )
                .with_for_update(of=T_CONTACT_PERSON)
            )
        # the account row stays locked to the commit: parallel requests count the recent links one after another
        account = (await session.execute(stmt)).one_or_none()
        if account is not None:
            owner = {"staff_user_id": account.id} if portal is None else {"contact_person_id": account.id}
            column = T_TOKEN.c.staff_user_id if portal is None else T_TOKEN.c.contact_person_id
            recent = await session.scalar(
                select(func.count()).where(
                    column == account.id,
                    T_TOKEN.c.kind == "RESET",
                    T_TOKEN.c.created_at > datetime.now(UTC) - timedelta(hours=1),
                )
            )
            if (recent or 0) < RESETS_PER_HOUR:  # quietly stop mail-bombing an inbox
                token = await tokens.issue_token(
                    session,
                    kind="RESET",
                    organization_id=account.organization_id,
                    ttl=timedelta(minutes=settings.reset_ttl_minutes),
                    **owner,
                )
                link = f"{settings.public_portal_url.rstrip('/')}/reset-password/{token}"
                message = render_mail(
                    "reset",
                    to=account.email,
                    subject=f"Reset your {account.organization_name} password",
                    name=getattr(account, "first_name", None) or account.name,
                    link=link,
                    organization_name=account.organization_name,
                    ttl_minutes=settings.reset_ttl_minutes,
                )
                await mail.enqueue(session, message, kind="password_reset", organization_id=account.organization_id)
    if account is not None:
        ctx.after_commit_mail()
    return RequestPasswordResetPayload(accepted=True)


@returns_errors(ResetPasswordError)
async def reset_password(info: strawberry.Info, input: ResetPasswordInput) -> ResetPasswordResult:
    """Set a new password from a reset link; every session of that account ends, and a new one starts."""
    ctx: Context = info.context
    settings = ctx.settings
    keys = throttle.address_keys(ctx.client_ip)
    await throttle.reserve(ctx.db, keys)  # a token cannot be guessed, but spraying guesses is stopped all the same
    async with ctx.db.transaction() as session:
        token = await tokens.redeem_token(session, kind="RESET", token=input.token)
        table = T_STAFF_USER if token.staff_user_id else T_CONTACT_PERSON
        pk = token.staff_user_id or token.contact_person_id
        row = (await session.execute(select(table).where(table.c.id == pk).with_for_update())).one()
        passwords.check_password_policy(input.password, row.email)
        new_hash = await asyncio.to_thread(hash_password, settings, input.password)
        row = (
            await session.execute(update(table).where(table.c.id == pk).values(password_hash=new_hash).returning(table))
        ).one()
        owner = {"staff_user_id": pk} if table is T_STAFF_USER else {"contact_person_id": pk}
        revoked = await revoke_sessions(session, **owner)
        await throttle.succeeded(session, keys)
        await record_activity(
            session,
            viewer=None,
            organization_id=row.organization_id,
            contact_id=getattr(row, "contact_id", None),
            kind="password_reset",
            description=f"Password reset by {row.email}",
            ip_address=ctx.client_ip,
            details={"sessions_revoked": len(revoked)},
        )
        issued = await issue_session(
            session,
            settings,
            organization_id=row.organization_id,
            user_agent=ctx.user_agent,
            ip_address=ctx.client_ip,
            **owner,
        )
    return await session_result(ctx, issued, table, row)


@strawberry.type
class Mutation:
    change_password: ChangePasswordResult = strawberry.field(resolver=change_password)
    request_password_reset: RequestPasswordResetPayload = strawberry.field(resolver=request_password_reset)
    reset_password: ResetPasswordResult = strawberry.field(resolver=reset_password)
