"""Probes: /livez answers while the process runs; /readyz (and /healthz) only while it can serve, naming the check
that fails."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import text

from core.database import Database
from core.settings import Settings
from services.health import migration_heads
from tests.client import own_app


@pytest.fixture
async def with_worker(settings: Settings) -> AsyncIterator[tuple[Any, AsyncClient]]:
    """An app of its own whose mail worker runs."""
    async with own_app(settings.model_copy(update={"mail_worker": True})) as running:
        yield running


async def test_a_ready_app_says_so_for_each_check(http: AsyncClient) -> None:
    # when the running app is probed
    alive, ready, health = await http.get("/livez"), await http.get("/readyz"), await http.get("/healthz")
    # then it is alive and ready, each check named (the tests' app has no mail worker: off, not a failure)
    assert (alive.status_code, alive.json()) == (200, {"status": "alive"})
    expected = {"status": "ok", "database": "up", "migrations": "head", "broadcast": "up", "outbox": "off"}
    assert (ready.status_code, ready.json()) == (200, expected)
    assert (health.status_code, health.json()) == (200, expected)


async def test_a_database_behind_the_migrations_is_not_ready(http: AsyncClient, db: Database) -> None:
    # given a database whose schema is at a revision older than the code's head
    (head,) = migration_heads()
    async with db.transaction() as session:
        await session.execute(text("UPDATE alembic_version SET version_num = 'b0000000old'"))
    try:
        # when the app is probed
        alive, ready = await http.get("/livez"), await http.get("/readyz")
    finally:
        async with db.transaction() as session:
            await session.execute(text("UPDATE alembic_version SET version_num = :head"), {"head": head})
    # then it is alive but not ready, and says why
    assert alive.status_code == 200
    assert ready.status_code == 503
    assert ready.json()["status"] == "unavailable"
    assert ready.json()["migrations"] == "at b0000000old, not head"


async def test_a_stopped_mail_worker_makes_the_app_not_ready(with_worker: tuple[Any, AsyncClient]) -> None:
    application, client = with_worker
    # given an app whose mail worker runs: ready
    assert (await client.get("/readyz")).json()["outbox"] == "running"
    # when the worker's loop ends (stopped, or crashed past its own error handling)
    await application.state.runtime.outbox.stop()
    # then the app is not ready, and says why
    stopped = await client.get("/readyz")
    assert (stopped.status_code, stopped.json()["outbox"]) == (503, "stopped")
