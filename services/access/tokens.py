"""One-time tokens of invitations and password resets: random, stored as SHA-256, expiring, single use."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import DomainError
from core.security import new_token, token_digest
from models import OneTimeToken

T_TOKEN = OneTimeToken.__table__


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
