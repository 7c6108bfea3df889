"""Passwords, one-time tokens (invitations and resets) and two-factor codes."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import pyotp
from sqlalchemy import Table, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import DomainError
from core.security import new_token, token_digest
from models import OneTimeToken, RecoveryCode

T_TOKEN = OneTimeToken.__table__
T_RECOVERY = RecoveryCode.__table__

PASSWORD_MIN = 10
PASSWORD_MAX = 128
PASSWORD_POLICY = (
    f"Passwords need {PASSWORD_MIN} to {PASSWORD_MAX} characters and must not be the email address "
    "(or the part of it before the @)."
)
RECOVERY_CODES = 10
TOTP_ISSUER = "Portico"
TOTP_DIGITS = 6


def check_password_policy(password: str, email: str | None, field: str = "password") -> None:
    """Raise PASSWORD_TOO_SHORT, PASSWORD_TOO_LONG or PASSWORD_MATCHES_EMAIL."""
    if len(password) < PASSWORD_MIN:
        raise DomainError("PASSWORD_TOO_SHORT", PASSWORD_POLICY, field)
    if len(password) > PASSWORD_MAX:
        raise DomainError("PASSWORD_TOO_LONG", PASSWORD_POLICY, field)
    if email:
        lowered = password.strip().lower()
        if lowered in (email.lower(), email.lower().split("@")[0]):
            raise DomainError("PASSWORD_MATCHES_EMAIL", PASSWORD_POLICY, field)


def subject_columns(*, staff_user_id: int | None = None, contact_person_id: int | None = None) -> dict[str, Any]:
    return {"staff_user_id": staff_user_id, "contact_person_id": contact_person_id}


async def issue_token(
    session: AsyncSession, *, kind: str, organization_id: int, ttl: timedelta, **subject: int | None
) -> str:
    """A new one-time token of ``kind`` for the subject; earlier unused ones of that kind are voided."""
    owner = subject_columns(**subject)
    column = T_TOKEN.c.staff_user_id if owner["staff_user_id"] else T_TOKEN.c.contact_person_id
    subject_id = owner["staff_user_id"] or owner["contact_person_id"]
    now = datetime.now(UTC)
    await session.execute(
        update(T_TOKEN)
        .where(column == subject_id, T_TOKEN.c.kind == kind, T_TOKEN.c.used_at.is_(None), T_TOKEN.c.voided_at.is_(None))
        .values(voided_at=now)
    )
    token = new_token()
    await session.execute(
        insert(T_TOKEN).values(
            organization_id=organization_id,
            kind=kind,
            token_hash=token_digest(token),
            created_at=now,
            expires_at=now + ttl,
            **owner,
        )
    )
    return token


async def void_tokens(session: AsyncSession, **subject: int | None) -> None:
    owner = subject_columns(**subject)
    column = T_TOKEN.c.staff_user_id if owner["staff_user_id"] else T_TOKEN.c.contact_person_id
    await session.execute(
        update(T_TOKEN)
        .where(
            column == (owner["staff_user_id"] or owner["contact_person_id"]),
            T_TOKEN.c.used_at.is_(None),
            T_TOKEN.c.voided_at.is_(None),
        )
        .values(voided_at=datetime.now(UTC))
    )


async def redeem_token(session: AsyncSession, *, kind: str, token: str) -> Any:
    """Lock and use the token: UNKNOWN_TOKEN, TOKEN_USED, TOKEN_SUPERSEDED or TOKEN_EXPIRED otherwise."""
    row = (
        await session.execute(
            select(T_TOKEN)
            .where(T_TOKEN.c.token_hash == token_digest(token.strip()), T_TOKEN.c.kind == kind)
            .with_for_update()
        )
    ).one_or_none()
    if row is None:
        raise DomainError("UNKNOWN_TOKEN", "This link is not valid.", "token")
    if row.used_at is not None:
        raise DomainError("TOKEN_USED", "This link has already been used.", "token")
    if row.voided_at is not None:
        raise DomainError("TOKEN_SUPERSEDED", "A newer link has been sent; use that one.", "token")
    if row.expires_at <= datetime.now(UTC):
        raise DomainError("TOKEN_EXPIRED", "This link has expired; ask for a new one.", "token")
    await session.execute(update(T_TOKEN).where(T_TOKEN.c.id == row.id).values(used_at=datetime.now(UTC)))
    return row


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(secret: str, account: str, issuer: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=f"{TOTP_ISSUER} ({issuer})")


def totp_step(secret: str, code: str, *, after: int | None) -> int | None:
    """The 30-second step ``code`` belongs to, accepting one step of clock drift either way; None unless it matches.

    A code is single use: only a step later than ``after`` (the last step that was used) counts.
    """
    cleaned = code.replace(" ", "")
    if not (cleaned.isascii() and cleaned.isdigit()) or len(cleaned) != TOTP_DIGITS:  # ASCII: compare_digest
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(datetime.now(UTC))
    for step in (current - 1, current, current + 1):
        if (after is None or step > after) and hmac.compare_digest(totp.generate_otp(step), cleaned):
            return step
    return None


async def use_totp(session: AsyncSession, table: Table, row: Any, code: str) -> bool:
    """Accept a code of a step after the row's last used one and remember that step (the caller locked the row)."""
    step = totp_step(row.totp_secret, code, after=row.totp_last_step)
    if step is None:
        return False
    await session.execute(update(table).where(table.c.id == row.id).values(totp_last_step=step))
    return True


async def use_second_factor(session: AsyncSession, table: Table, row: Any, code: str, **subject: int | None) -> bool:
    """A TOTP code not used before or an unused recovery code; the caller locked ``row`` FOR UPDATE."""
    return await use_totp(session, table, row, code) or await use_recovery_code(session, code, **subject)


def _recovery_digest(code: str) -> bytes:
    return hashlib.sha256(code.replace("-", "").replace(" ", "").lower().encode()).digest()


async def clear_recovery_codes(session: AsyncSession, **subject: int | None) -> None:
    owner = subject_columns(**subject)
    column = T_RECOVERY.c.staff_user_id if owner["staff_user_id"] else T_RECOVERY.c.contact_person_id
    await session.execute(T_RECOVERY.delete().where(column == (owner["staff_user_id"] or owner["contact_person_id"])))


async def replace_recovery_codes(session: AsyncSession, **subject: int | None) -> list[str]:
    """Fresh one-time recovery codes (shown once); the old ones stop working."""
    owner = subject_columns(**subject)
    await clear_recovery_codes(session, **subject)
    codes = [f"{secrets.token_hex(4)}-{secrets.token_hex(4)}" for _ in range(RECOVERY_CODES)]
    await session.execute(insert(T_RECOVERY), [{**owner, "code_hash": _recovery_digest(c)} for c in codes])
    return codes


async def use_recovery_code(session: AsyncSession, code: str, **subject: int | None) -> bool:
    owner = subject_columns(**subject)
    column = T_RECOVERY.c.staff_user_id if owner["staff_user_id"] else T_RECOVERY.c.contact_person_id
    used = await session.scalar(
        update(T_RECOVERY)
        .where(
            column == (owner["staff_user_id"] or owner["contact_person_id"]),
            T_RECOVERY.c.code_hash == _recovery_digest(code),
            T_RECOVERY.c.used_at.is_(None),
        )
        .values(used_at=datetime.now(UTC))
        .returning(T_RECOVERY.c.id)
    )
    return used is not None
