"""Two-factor sign-in: TOTP codes (PyOTP), each 30-second step usable once, and one-time recovery codes."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime
from typing import Any

import pyotp
from sqlalchemy import Table, insert, update
from sqlalchemy.ext.asyncio import AsyncSession

from models import RecoveryCode
from services.access.tokens import subject_columns

T_RECOVERY = RecoveryCode.__table__


RECOVERY_CODES = 10


TOTP_ISSUER = "Portico"


TOTP_DIGITS = 6


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
