"""What staff's mutations of contacts, their people, projects, tasks and time entries share: the row an input's id
names, the row an update changes (locked, in the update's transaction), and a change written with its history entry.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import strawberry
from sqlalchemy import Executable, Table, func, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.context import Context
from core.errors import not_found
from resolvers.common import one_or_raise, pk_of, record_action


def staff_target(info: strawberry.Info, global_id: str, type_name: str, *, field: str = "id") -> tuple[Context, int]:
    """The request's context once its viewer is known to be staff, and the primary key ``global_id`` names
    (NOT_FOUND, at ``field``, for a malformed id or one of another type)."""
    ctx: Context = info.context
    ctx.require_staff()
    return ctx, pk_of(global_id, type_name, field=field)


@asynccontextmanager
async def editing(ctx: Context, locked: Executable, missing: str) -> AsyncIterator[tuple[AsyncSession, Any]]:
    """An update's transaction, and the row ``locked`` selects in it (through the viewer's scope, FOR UPDATE):
    NOT_FOUND (``missing``) when there is none."""
    async with ctx.db.transaction() as session:
        yield session, await one_or_raise(session, locked, not_found(missing))


async def write_changes(
    ctx: Context,
    session: AsyncSession,
    table: Table,
    pk: int,
    values: Mapping[str, Any],
    *,
    kind: str,
    description: str,
    details: Mapping[str, Any] | None = None,
    **entry: Any,
) -> None:
    """Write ``values`` to the row ``pk`` of ``table`` (stamping ``updated_at`` where the table has one) and note
    it in the history: ``kind``, ``description``, the rows concerned (``entry``), ``details`` and the fields
    written. Nothing at all when ``values`` is empty."""
    if not values:
        return
    stamp = {"updated_at": func.now()} if "updated_at" in table.c else {}
    await session.execute(update(table).where(table.c.id == pk).values(**values, **stamp))
    await record_action(
        ctx, session, kind=kind, description=description, details={**(details or {}), "fields": sorted(values)}, **entry
    )
