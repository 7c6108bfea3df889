"""Who a websocket's session belongs to now, re-checked for every event.

A websocket authenticates once, at ``connection_init``; its session may since have been revoked or expired,
the person's portal access disabled, the staff user deactivated, or the organization may have hidden projects.
Before an event is delivered the session is read again (one query per event per process, batched over every
subscriber), with the rules of ``core.auth.authenticate`` except the idle timeout: an open socket is activity.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import select
from strawberry.dataloader import DataLoader

from core.auth import T_ORG, T_PERSON, T_SESSION, T_STAFF, PortalViewer, StaffViewer, Viewer
from core.database import Database


async def current_viewers(db: Database, session_ids: Sequence[int]) -> list[Viewer | None]:
    """The viewer of each session, or None where the session no longer grants access."""
    stmt = (
        select(
            T_SESSION.c.id,
            T_SESSION.c.organization_id,
            T_STAFF.c.id.label("staff_id"),
            T_STAFF.c.role,
            T_STAFF.c.is_active,
            T_PERSON.c.id.label("person_id"),
            T_PERSON.c.contact_id,
            T_PERSON.c.portal_status,
            T_ORG.c.portal_enabled,
            T_ORG.c.portal_show_projects,
        )
        .select_from(
            T_SESSION.join(T_ORG, T_ORG.c.id == T_SESSION.c.organization_id)
            .outerjoin(T_STAFF, T_STAFF.c.id == T_SESSION.c.staff_user_id)
            .outerjoin(T_PERSON, T_PERSON.c.id == T_SESSION.c.contact_person_id)
        )
        .where(
            T_SESSION.c.id.in_(session_ids),
            T_SESSION.c.revoked_at.is_(None),
            T_SESSION.c.expires_at > datetime.now(UTC),
        )
    )
    async with db.session() as session:
        rows = (await session.execute(stmt)).all()
    found: dict[int, Viewer] = {}
    for row in rows:
        if row.staff_id is not None:
            if row.is_active:
                found[row.id] = StaffViewer(row.id, row.organization_id, row.staff_id, row.role)
        elif row.portal_status == "ACTIVE" and row.portal_enabled:
            found[row.id] = PortalViewer(
                row.id, row.organization_id, row.contact_id, row.person_id, row.portal_show_projects
            )
    return [found.get(session_id) for session_id in session_ids]


def viewer_loader(db: Database) -> DataLoader[int, Viewer | None]:
    """A loader of current viewers by session id, for one event: every subscriber's check in one query."""

    async def load(session_ids: Sequence[int]) -> list[Viewer | None]:
        return await current_viewers(db, session_ids)

    return DataLoader(load_fn=load)
