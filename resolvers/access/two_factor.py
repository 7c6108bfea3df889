"""Two-factor sign-in with TOTP (PyOTP): enable, confirm, disable; recovery codes."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import strawberry
from sqlalchemy import select, update

from core.context import Context
from core.errors import DomainError, invalid
from core.scope import T_ORGANIZATION
from core.security import verify_password
from resolvers.access.common import own_row, record_own_change, secret_keys, subject, viewer_object
from resolvers.common import returns_errors
from schema.access.mutations import (
    ConfirmTwoFactorResult,
    DisableTwoFactorInput,
    DisableTwoFactorResult,
    EnableTwoFactorResult,
    TwoFactorEnabled,
    TwoFactorError,
    TwoFactorSetup,
)
from services.access import throttle
from services.access import two_factor as second_factor


def _require_off(row: Any) -> None:
    if row.totp_enabled_at is not None:
        raise DomainError("ALREADY_ENABLED", "Two-factor sign-in is already on.")


def _require_on(row: Any) -> None:
    if row.totp_enabled_at is None:
        raise DomainError("NOT_ENABLED", "Two-factor sign-in is not on.")


@returns_errors(TwoFactorError)
async def enable_two_factor(info: strawberry.Info) -> EnableTwoFactorResult:
    """Start two-factor set-up: a new secret, active once a code from it is confirmed."""
    ctx: Context = info.context
    viewer = ctx.require_viewer()
    table, pk, _ = subject(viewer)
    async with ctx.db.transaction() as session:
        row = await own_row(session, viewer, lock=True)
        _require_off(row)
        secret = second_factor.new_totp_secret()
        # the steps used with an earlier secret say nothing about the new one
        await session.execute(update(table).where(table.c.id == pk).values(totp_secret=secret, totp_last_step=None))
        org_name = await session.scalar(select(T_ORGANIZATION.c.name).where(T_ORGANIZATION.c.id == row.organization_id))
    return TwoFactorSetup(secret=secret, otpauth_uri=second_factor.totp_uri(secret, row.email, org_name or ""))


@returns_errors(TwoFactorError)
async def confirm_two_factor(info: strawberry.Info, otp: str) -> ConfirmTwoFactorResult:
    """Turn two-factor on with a current code; returns one-time recovery codes (shown once)."""
    ctx: Context = info.context
    viewer = ctx.require_viewer()
    table, pk, owner = subject(viewer)
    keys = secret_keys(ctx, viewer)
    await throttle.reserve(ctx.db, keys, ctx.settings)
    async with ctx.db.transaction() as session:
        row = await own_row(session, viewer, lock=True)
        _require_off(row)
        if not row.totp_secret:
            raise DomainError("NOT_STARTED", "Call enableTwoFactor first.")
        if not await second_factor.use_totp(session, table, row, otp):  # the confirming code cannot sign in afterwards
            raise DomainError("OTP_INVALID", "That code is not right; check the app's clock.", "otp")
        await session.execute(update(table).where(table.c.id == pk).values(totp_enabled_at=datetime.now(UTC)))
        codes = await second_factor.replace_recovery_codes(session, **owner)
        await throttle.succeeded(session, keys)
        await record_own_change(
            ctx, session, row, kind="two_factor_enabled", description="Two-factor sign-in turned on"
        )
    return TwoFactorEnabled(recovery_codes=codes)


@returns_errors(TwoFactorError)
async def disable_two_factor(info: strawberry.Info, input: DisableTwoFactorInput) -> DisableTwoFactorResult:
    """Turn two-factor off, proven with the password or a current (or recovery) code."""
    ctx: Context = info.context
    viewer = ctx.require_viewer()
    table, pk, owner = subject(viewer)
    if not input.password and not input.otp:
        raise invalid("Give the password or a code.")
    keys = secret_keys(ctx, viewer)
    await throttle.reserve(ctx.db, keys, ctx.settings)
    if input.password:
        async with ctx.db.session() as session:
            row = await own_row(session, viewer)
        _require_on(row)
        # Argon2 off the event loop, with no connection checked out
        if not await asyncio.to_thread(verify_password, ctx.settings, row.password_hash, input.password):
            raise DomainError("WRONG_PASSWORD", "The password is not right.", "password")
    async with ctx.db.transaction() as session:
        row = await own_row(session, viewer, lock=True)
        _require_on(row)
        if not input.password and not await second_factor.use_second_factor(
            session, table, row, input.otp or "", **owner
        ):
            raise DomainError("OTP_INVALID", "That code is not right.", "otp")
        row = (
            await session.execute(
                update(table)
                .where(table.c.id == pk)
                .values(totp_secret=None, totp_enabled_at=None, totp_last_step=None)
                .returning(table)
            )
        ).one()
        await second_factor.clear_recovery_codes(session, **owner)
        await throttle.succeeded(session, keys)
        await record_own_change(
            ctx, session, row, kind="two_factor_disabled", description="Two-factor sign-in turned off"
        )
    return viewer_object(table, row)


@strawberry.type
class Mutation:
    enable_two_factor: EnableTwoFactorResult = strawberry.field(resolver=enable_two_factor)
    confirm_two_factor: ConfirmTwoFactorResult = strawberry.field(resolver=confirm_two_factor)
    disable_two_factor: DisableTwoFactorResult = strawberry.field(resolver=disable_two_factor)
