"""mySessions and revokeSession."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import strawberry
from sqlalchemy import select

from core.auth import T_SESSION, revoke_sessions
from core.context import Context
from core.errors import not_found
from core.ids import decode_id, to_global_id
from resolvers.access.common import subject
from resolvers.common import returns_errors
from schema.access.mutations import RevokeSessionError, RevokeSessionResult
from schema.access.types import ActiveSession
from schema.base import from_columns


def _active_sessions(ctx: Context) -> Any:
    _, _, owner = subject(ctx.require_viewer())
    now = datetime.now(UTC)
    return select(T_SESSION).where(
        *(T_SESSION.c[column] == pk for column, pk in owner.items()),
        T_SESSION.c.revoked_at.is_(None),
        T_SESSION.c.expires_at > now,
        T_SESSION.c.last_seen_at > now - timedelta(minutes=ctx.settings.session_idle_timeout_minutes),
    )


def _to_type(row: Any, current_id: int) -> ActiveSession:
    return from_columns(
        ActiveSession,
        row,
        id=strawberry.ID(to_global_id("Session", row.id)),
        ip_address=str(row.ip_address) if row.ip_address is not None else None,
        current=row.id == current_id,
    )


async def my_sessions(info: strawberry.Info) -> list[ActiveSession]:
    """The viewer's signed-in sessions, most recently used first."""
    ctx: Context = info.context
    viewer = ctx.require_viewer()
    async with ctx.db.session() as session:
        rows = (await session.execute(_active_sessions(ctx).order_by(T_SESSION.c.last_seen_at.desc()))).all()
    return [_to_type(row, viewer.session_id) for row in rows]


async def active_session(ctx: Context, pk: int) -> ActiveSession | None:
    """One of the viewer's own active sessions (``node(id)``), or None."""
    viewer = ctx.require_viewer()
    async with ctx.db.session() as session:
        row = (await session.execute(_active_sessions(ctx).where(T_SESSION.c.id == pk))).one_or_none()
    return _to_type(row, viewer.session_id) if row is not None else None


@returns_errors(RevokeSessionError)
async def revoke_session(info: strawberry.Info, id: strawberry.ID) -> RevokeSessionResult:
    """Sign one of the viewer's own sessions out (its open sockets close too)."""
    ctx: Context = info.context
    viewer = ctx.require_viewer()
    pk = decode_id(id, "Session")
    async with ctx.db.transaction() as session:
        row = (
            (await session.execute(_active_sessions(ctx).where(T_SESSION.c.id == pk).with_for_update())).one_or_none()
            if pk
            else None
        )
        if row is None:
            raise not_found("No session of yours with this id.")
        await revoke_sessions(session, session_id=row.id)  # its sockets close after commit
    return _to_type(row, viewer.session_id)


@strawberry.type
class Query:
    my_sessions: list[ActiveSession] = strawberry.field(resolver=my_sessions)


@strawberry.type
class Mutation:
    revoke_session: RevokeSessionResult = strawberry.field(resolver=revoke_session)
