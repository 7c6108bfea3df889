"""A tenant with signed-in staff and portal users, and a rival organization, for the portal tests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import event

from core.auth import issue_session
from core.database import Database
from core.settings import Settings
from subscriptions.events import organization_channel
from tests.factories import Factory, Row, Tenant


@dataclass
class World:
    ours: Tenant
    colleague: Row  # a second active portal person of contact A
    staff: str  # our owner
    client: str  # person A (contact A)
    colleague_token: str
    other: str  # person B (contact B, same organization)
    theirs: Tenant
    rival_staff: str
    rival_client: str


async def session_token(
    db: Database, settings: Settings, tenant: Tenant, *, staff: Row | None = None, person: Row | None = None
) -> str:
    """A session for a staff user or a portal person, issued directly (signing in is tested elsewhere)."""
    async with db.transaction() as session:
        issued = await issue_session(
            session,
            settings,
            organization_id=tenant.org.pk,
            staff_user_id=staff.pk if staff else None,
            contact_person_id=person.pk if person else None,
        )
    return issued.token


@pytest.fixture
async def world(factory: Factory, db: Database, settings: Settings) -> World:
    ours, theirs = await factory.tenant(), await factory.tenant()
    colleague = await factory.person(ours.contact_a, first_name="Colleague")
    return World(
        ours=ours,
        colleague=colleague,
        staff=await session_token(db, settings, ours, staff=ours.owner),
        client=await session_token(db, settings, ours, person=ours.person_a),
        colleague_token=await session_token(db, settings, ours, person=colleague),
        other=await session_token(db, settings, ours, person=ours.person_b),
        theirs=theirs,
        rival_staff=await session_token(db, settings, theirs, staff=theirs.owner),
        rival_client=await session_token(db, settings, theirs, person=theirs.person_a),
    )


def result_of(data: dict[str, Any]) -> dict[str, Any]:
    """The single root field's value of a mutation's data."""
    (value,) = data.values()
    return value  # type: ignore[no-any-return]


def refills_an_allowance(statement: str) -> bool:
    """A statement of ``core.ratelimit`` alone: it takes a process's rate-limit allowance (at most once a second
    per bucket, whatever the operations), so it is no part of what an operation costs in statements."""
    return "INSERT INTO rate_limit_bucket" in statement and "auth_session" not in statement


@contextmanager
def statements(db: Database, *, allowances: bool = False) -> Iterator[list[str]]:
    """Every SQL statement the app's engine sends while the block runs (but the rate limit's allowance takes,
    unless ``allowances``)."""
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if allowances or not refills_an_allowance(statement):
            seen.append(statement)

    def observe(statement: str) -> None:
        record(None, None, statement)

    event.listen(db.engine.sync_engine, "before_cursor_execute", record)
    db.observers.append(observe)  # (what Database.fetch_row sends past SQLAlchemy)
    try:
        yield seen
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", record)
        db.observers.remove(observe)


SENTINEL = {"type": "TestSentinel"}


@asynccontextmanager
async def published(app: Any, organization_id: int) -> AsyncIterator[list[dict[str, Any]]]:
    """Events published on the organization's channel while the block runs (complete when it exits)."""
    broker = app.state.runtime.broker
    channel = organization_channel(organization_id)
    events: list[dict[str, Any]] = []
    done = asyncio.Event()
    async with broker.subscribe(channel) as stream:

        async def pump() -> None:
            async for message in stream:
                if message == SENTINEL:
                    done.set()
                    return
                events.append(message)

        task = asyncio.create_task(pump())
        try:
            yield events
            # everything published before the sentinel has been received once the sentinel arrives
            await broker.publish(channel, SENTINEL)
            await asyncio.wait_for(done.wait(), timeout=5)
        finally:
            task.cancel()
