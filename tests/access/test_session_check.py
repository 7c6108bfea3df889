"""A request's session check is one statement: the session found by its token, marked seen (at most once a
minute) in the same round trip."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from core.auth import T_SESSION, StaffViewer, authenticate
from core.database import Database
from core.settings import Settings
from tests.factories import Factory
from tests.portal.conftest import session_token, statements


async def _last_seen(db: Database) -> datetime:
    async with db.session() as session:
        return (await session.execute(select(T_SESSION.c.last_seen_at))).scalar_one()


async def test_the_session_check_marks_a_session_seen_in_the_same_statement(
    factory: Factory, db: Database, settings: Settings
) -> None:
    # given a staff session last seen five minutes ago
    tenant = await factory.tenant()
    token = await session_token(db, settings, tenant, staff=tenant.owner)
    five_minutes_ago = datetime.now(UTC) - timedelta(minutes=5)
    async with db.transaction() as session:
        await session.execute(update(T_SESSION).values(last_seen_at=five_minutes_ago))
    # when a request checks it
    with statements(db) as sent:
        viewer = await authenticate(db, settings, token)
    # then it is the owner's session, found and marked seen now by one statement
    assert isinstance(viewer, StaffViewer) and viewer.staff_user_id == tenant.owner.pk
    assert len(sent) == 1 and "UPDATE auth_session" in sent[0]
    seen = await _last_seen(db)
    assert seen > five_minutes_ago + timedelta(minutes=4)
    # and a second check within the minute leaves last_seen_at as it is
    assert await authenticate(db, settings, token) == viewer
    assert await _last_seen(db) == seen


async def test_a_session_idle_too_long_is_neither_found_nor_marked_seen(
    factory: Factory, db: Database, settings: Settings
) -> None:
    # given a portal session idle for longer than the idle timeout
    tenant = await factory.tenant()
    token = await session_token(db, settings, tenant, person=tenant.person_a)
    idle = datetime.now(UTC) - timedelta(minutes=settings.session_idle_timeout_minutes + 1)
    async with db.transaction() as session:
        await session.execute(update(T_SESSION).values(last_seen_at=idle))
    # when a request presents its token, then nobody is signed in and the session stays idle
    assert await authenticate(db, settings, token) is None
    assert await _last_seen(db) == idle
