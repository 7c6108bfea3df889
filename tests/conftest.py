"""Test set-up: one real PostgreSQL database per run, migrated once, truncated between tests."""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
from httpx import ASGITransport, AsyncClient
from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlmodel import SQLModel

from app import create_app
from core.database import Database, drop_database, ensure_database, server_url
from core.settings import Settings
from services.migrations import run_alembic
from tests.client import GraphQLClient
from tests.factories import Factory
from tests.smtp import SmtpServer
from tests.subscriptions.conftest import PrivateRedis, Sessions

UNLIMITED_RATES = {
    "rate_limit_session_burst": 10**9,
    "rate_limit_session_per_second": 10**9,
    "rate_limit_address_burst": 10**9,
    "rate_limit_address_per_second": 10**9,
}
TABLES = ", ".join(f'"{table.name}"' for table in SQLModel.metadata.sorted_tables)


def base_settings(**overrides: object) -> Settings:
    """Test settings: nothing from the developer's environment leaks in except DATABASE_URL."""
    values: dict[str, object] = {
        "environment": "test",
        "database_url": os.environ.get("DATABASE_URL", ""),
        "broadcast_url": "memory://",
        "smtp_url": "",
        "stripe_secret_key": "",
        "mail_worker": False,  # tests deliver the outbox explicitly (tests/mail helpers)
        "graphiql": True,
        "introspection": True,
        # every in-process request comes from one address at test speed; tests/security/test_limits.py sets
        # real budgets on an app of its own
        **UNLIMITED_RATES,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture(scope="session")
async def database_url() -> AsyncIterator[URL]:
    """A fresh database for this test run, migrated to head, dropped at the end."""
    settings = base_settings()
    url = (await asyncio.to_thread(server_url, settings)).set(database=f"portico_test_{uuid.uuid4().hex[:12]}")
    await ensure_database(url)
    await run_alembic(url, "upgrade", "head")
    try:
        yield url
    finally:
        await drop_database(url)


@pytest.fixture(scope="session")
def settings(database_url: URL) -> Settings:
    return base_settings(database_url=database_url.set(drivername="postgresql").render_as_string(False))


@pytest.fixture(scope="session")
async def app(settings: Settings) -> AsyncIterator[object]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture(scope="session")
def db(app: object) -> Database:
    return app.state.runtime.db  # type: ignore[attr-defined, no-any-return]


@pytest.fixture(autouse=True)
async def clean_tables(request: pytest.FixtureRequest) -> None:
    """Empty every table before each test that uses the database."""
    if "db" not in request.fixturenames and "app" not in request.fixturenames:
        return
    database: Database = request.getfixturevalue("db")
    async with database.transaction() as session:
        await session.execute(text(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE"))


@pytest.fixture
async def http(app: object) -> AsyncIterator[AsyncClient]:
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://portico.test") as client:  # type: ignore[arg-type]
        yield client


@pytest.fixture
def gql(http: AsyncClient) -> GraphQLClient:
    return GraphQLClient(http)


@pytest.fixture
def factory(db: Database, settings: Settings) -> Factory:
    return Factory(db, settings)


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    """A real SMTP server on 127.0.0.1; ``await smtp.deliver(db, settings)`` runs the outbox once."""
    server = SmtpServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def sessions(db: Database, settings: Settings) -> Sessions:
    """Tokens for staff users and portal persons (sessions issued directly: no Argon2 round-trip)."""
    return Sessions(db, settings)


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    """A redis-server of this test alone (``restart()`` stops and starts it)."""
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    redis = PrivateRedis()
    redis.start()
    try:
        yield redis
    finally:
        redis.stop()
