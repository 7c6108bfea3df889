"""Sessions: who the viewer is, from a bearer token or the session cookie."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import and_, func, insert, literal_column, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.database import Database, publish_after_commit
from core.scope import PortalScope, Scope, StaffScope
from core.security import new_token, token_digest
from core.settings import Settings
from core.sqltext import Statement, marker, numbered, render
from models import AuthSession, ContactPerson, Organization, StaffUser

T_SESSION = AuthSession.__table__
T_STAFF = StaffUser.__table__
T_PERSON = ContactPerson.__table__
T_ORG = Organization.__table__

# Writing last_seen_at on every request would turn each read into a write; once a minute is precise enough
# for the idle timeout and for "last seen" in the session list.
LAST_SEEN_RESOLUTION = timedelta(minutes=1)

#: Broadcast channel of session changes: ``{"sessionIds": [...]}`` and/or ``{"organizationId": n}``; each app
#: process re-checks the sockets it holds for them (core/sockets.py).
SESSIONS_CHANGED = "portico.sessions.changed"


@dataclass(frozen=True, slots=True)
class StaffViewer:
    session_id: int
    organization_id: int
    staff_user_id: int
    role: str
    expires_at: datetime | None = None  # the session's absolute expiry: open sockets close then

    def scope(self) -> Scope:
        return StaffScope(organization_id=self.organization_id)


@dataclass(frozen=True, slots=True)
class PortalViewer:
    session_id: int
    organization_id: int
    contact_id: int
    contact_person_id: int
    show_projects: bool
    expires_at: datetime | None = None

    def scope(self) -> Scope:
        return PortalScope(
            organization_id=self.organization_id,
            contact_id=self.contact_id,
            contact_person_id=self.contact_person_id,
            show_projects=self.show_projects,
        )


Viewer = StaffViewer | PortalViewer


@dataclass(frozen=True, slots=True)
class IssuedSession:
    token: str
    session_id: int
    expires_at: datetime


def _now() -> datetime:
    return datetime.now(UTC)


async def issue_session(
    session: AsyncSession,
    settings: Settings,
    *,
    organization_id: int,
    staff_user_id: int | None = None,
    contact_person_id: int | None = None,
    user_agent: str | None = None,
    ip_address: str | None = None,
) -> IssuedSession:
    """Create a session row (inside the caller's transaction) and return the token, shown once."""
    token = new_token()
    now = _now()
    expires_at = now + timedelta(hours=settings.session_absolute_timeout_hours)
    session_id = await session.scalar(
        insert(T_SESSION)
        .values(
            organization_id=organization_id,
            staff_user_id=staff_user_id,
            contact_person_id=contact_person_id,
            token_hash=token_digest(token),
            created_at=now,
            last_seen_at=now,
            expires_at=expires_at,
            user_agent=(user_agent or "")[:500] or None,
            ip_address=ip_address,
        )
        .returning(T_SESSION.c.id)
    )
    assert session_id is not None
    return IssuedSession(token=token, session_id=session_id, expires_at=expires_at)


# The one rule of which session grants access, for HTTP requests, the planned read path (in SQL, in the same
# statement as the read) and every operation and event on a websocket: not revoked, not past its absolute expiry, a
# staff user still active or a portal person still ACTIVE in an organization whose portal is on. The idle timeout
# applies to requests only (an open socket is activity).
_SESSION_VIEWER = select(
    T_SESSION.c.id,
    T_SESSION.c.organization_id,
    T_SESSION.c.last_seen_at,
    T_SESSION.c.expires_at,
    T_STAFF.c.id.label("staff_id"),
    T_STAFF.c.role,
    T_STAFF.c.is_active,
    T_PERSON.c.id.label("person_id"),
    T_PERSON.c.contact_id,
    T_PERSON.c.portal_status,
    T_ORG.c.portal_enabled,
    T_ORG.c.portal_show_projects,
).select_from(
    T_SESSION.join(T_ORG, T_ORG.c.id == T_SESSION.c.organization_id)
    .outerjoin(T_STAFF, T_STAFF.c.id == T_SESSION.c.staff_user_id)
    .outerjoin(T_PERSON, T_PERSON.c.id == T_SESSION.c.contact_person_id)
)


# ... and who still has access: an active staff user, or an ACTIVE portal person of an organization whose portal is on
ACCESS_GRANTED = or_(
    T_STAFF.c.is_active.is_(True),
    and_(T_PERSON.c.portal_status == "ACTIVE", T_ORG.c.portal_enabled.is_(True)),
)


def session_is_live(now: Any) -> list[Any]:
    """The conditions of a session that still counts at ``now``: not revoked, not expired (no idle rule here)."""
    return [T_SESSION.c.revoked_at.is_(None), T_SESSION.c.expires_at > now, ACCESS_GRANTED]


def request_session(token_hash: Any, *, now: Any, idle_minutes: int) -> list[Any]:
    """The conditions that make the session of ``token_hash`` answer a request (idle timeout included)."""
    idle_limit = (
        now - timedelta(minutes=idle_minutes)
        if isinstance(now, datetime)
        else (now - func.make_interval(0, 0, 0, 0, 0, idle_minutes))
    )
    return [T_SESSION.c.token_hash == token_hash, T_SESSION.c.last_seen_at > idle_limit, *session_is_live(now)]


def seen_cte(session_id: str) -> str:
    """The CTE ``seen``: the session ``session_id`` (SQL) marked seen now, at most once per ``LAST_SEEN_RESOLUTION``
    (in the statement that found it: no second round trip)."""
    return f"""seen AS (
    UPDATE auth_session SET last_seen_at = now()
    WHERE id = {session_id} AND last_seen_at < now() - make_interval(secs => {LAST_SEEN_RESOLUTION.total_seconds()})
    RETURNING 1
)"""


@lru_cache(maxsize=4)
def _by_token(idle_minutes: int) -> Statement:
    token = literal_column(f"CAST({marker('token')} AS BYTEA)")
    viewer = _SESSION_VIEWER.where(*request_session(token, now=func.now(), idle_minutes=idle_minutes))
    return numbered(f"WITH viewer AS ({render(viewer)}),\n{seen_cte('(SELECT id FROM viewer)')}\nSELECT * FROM viewer")


@lru_cache(maxsize=1)
def _by_ids() -> Statement:
    ids = literal_column(f"CAST({marker('ids')} AS bigint[])")
    return numbered(render(_SESSION_VIEWER.where(T_SESSION.c.id == func.any(ids), *session_is_live(func.now()))))


def _viewer_of(row: Any) -> Viewer:
    """The viewer of a session row that passed ``session_is_live``."""
    if row["staff_id"] is not None:
        return StaffViewer(row["id"], row["organization_id"], row["staff_id"], row["role"], row["expires_at"])
    return PortalViewer(
        row["id"],
        row["organization_id"],
        row["contact_id"],
        row["person_id"],
        row["portal_show_projects"],
        row["expires_at"],
    )


async def authenticate(db: Database, settings: Settings, token: str | None) -> Viewer | None:
    """The viewer holding ``token``, or None when it is unknown, revoked, expired or its access is gone; one
    statement, which also marks the session seen."""
    if not token or len(token) > 200:
        return None
    statement = _by_token(settings.session_idle_timeout_minutes)
    row = await db.fetch_row(statement.sql, statement.arguments({"token": token_digest(token)}))
    return None if row is None else _viewer_of(row)


async def current_viewers(db: Database, session_ids: Sequence[int]) -> list[Viewer | None]:
    """The viewer of each session now (same rule as ``authenticate``, no idle timeout), None where access ended."""
    if not session_ids:
        return []
    # one array parameter, not an IN list of one parameter per session: the same SQL text (and prepared statement)
    # whatever the number of sockets
    statement = _by_ids()
    rows = await db.fetch(statement.sql, statement.arguments({"ids": sorted(set(session_ids))}))
    found = {row["id"]: _viewer_of(row) for row in rows}
    return [found.get(session_id) for session_id in session_ids]


def sessions_changed(
    session: AsyncSession, *, session_ids: Sequence[int] = (), organization_id: int | None = None
) -> None:
    """After ``session`` commits, tell every app process to re-check the sockets of these sessions (or of every
    session of the organization) and close those that no longer grant access."""
    message: dict[str, Any] = {"sessionIds": list(session_ids)} if session_ids else {}
    if organization_id is not None:
        message["organizationId"] = organization_id
    if message:
        publish_after_commit(session, SESSIONS_CHANGED, message)


async def revoke_sessions(
    session: AsyncSession,
    *,
    session_id: int | None = None,
    staff_user_id: int | None = None,
    contact_person_id: int | None = None,
    except_session_id: int | None = None,
) -> list[int]:
    """Revoke sessions matching the arguments (inside the caller's transaction); returns their ids.

    Once the transaction commits, every socket holding one of them closes with 4403 on every app process."""
    stmt = update(T_SESSION).where(T_SESSION.c.revoked_at.is_(None)).values(revoked_at=func.now())
    if session_id is not None:
        stmt = stmt.where(T_SESSION.c.id == session_id)
    if staff_user_id is not None:
        stmt = stmt.where(T_SESSION.c.staff_user_id == staff_user_id)
    if contact_person_id is not None:
        stmt = stmt.where(T_SESSION.c.contact_person_id == contact_person_id)
    if except_session_id is not None:
        stmt = stmt.where(T_SESSION.c.id != except_session_id)
    result = await session.execute(stmt.returning(T_SESSION.c.id))
    revoked = list(result.scalars())
    sessions_changed(session, session_ids=revoked)  # their open sockets close, on every process
    return revoked
