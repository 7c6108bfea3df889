"""Per-organization sequential document numbers (``INV-000001``), safe under concurrent creates."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from models import DocumentCounter

T_COUNTER = DocumentCounter.__table__


PREFIXES = {"estimate": "EST", "invoice": "INV", "receipt": "RCT"}


async def next_number(session: AsyncSession, *, organization_id: int, kind: str) -> str:
    """Take the next number inside the caller's transaction.

    The counter row stays locked until that transaction ends, so concurrent creates queue on it and a
    rolled-back create leaves no gap-free guarantee broken for committed ones (numbers stay unique).
    """
    await session.execute(
        pg_insert(T_COUNTER)
        .values(organization_id=organization_id, kind=kind, next_value=1)
        .on_conflict_do_nothing(index_elements=["organization_id", "kind"])
    )
    value = await session.scalar(
        update(T_COUNTER)
        .where(T_COUNTER.c.organization_id == organization_id, T_COUNTER.c.kind == kind)
        .values(next_value=T_COUNTER.c.next_value + 1)
        .returning(T_COUNTER.c.next_value - 1)
    )
    return f"{PREFIXES[kind]}-{int(value or 0):06d}"
