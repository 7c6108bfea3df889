"""The command line (``python app.py …``), run as a real process against a throwaway database."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from httpx import ASGITransport, AsyncClient
from sqlalchemy import func, select
from sqlalchemy.engine import URL

from app import create_app
from core.database import Database, drop_database, ensure_database, make_engine, server_url
from core.scope import T_INVOICE, T_ORGANIZATION, T_STAFF_USER
from core.settings import PROJECT_ROOT
from services.migrations import run_alembic
from tests.client import GraphQLClient
from tests.conftest import base_settings

pytestmark = pytest.mark.slow

OWNER_PASSWORD = "a-long-owner-password"


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str


@pytest.fixture(scope="module")
async def cli_database() -> AsyncIterator[str]:
    """A database of its own, migrated to head, dropped afterwards; yields its plain ``postgresql://`` URL."""
    url: URL = (await asyncio.to_thread(server_url, base_settings())).set(
        database=f"portico_cli_{uuid.uuid4().hex[:12]}"
    )
    await ensure_database(url)
    await run_alembic(url, "upgrade", "head")
    try:
        yield url.set(drivername="postgresql").render_as_string(hide_password=False)
    finally:
        await drop_database(url)


async def run_cli(*args: str, database_url: str | None = None, **env: str) -> Run:
    """``python app.py args…`` in the project folder with DATABASE_URL (and ``env``) set."""
    environment = {**os.environ, **env}
    if database_url:
        environment["DATABASE_URL"] = database_url
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "app.py", *args],
        cwd=PROJECT_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    return Run(done.returncode, done.stdout, done.stderr)


async def create_organization(database_url: str, slug: str, email: str, password: str = OWNER_PASSWORD) -> Run:
    return await run_cli(
        "create-organization",
        "--name",
        f"Org {slug}",
        "--slug",
        slug,
        "--owner-email",
        email,
        database_url=database_url,
        PORTICO_OWNER_PASSWORD=password,
    )


async def count(database_url: str, table: object, *conditions: object) -> int:
    settings = base_settings(database_url=database_url)
    db = Database(make_engine(server_url(settings), settings))
    try:
        async with db.session() as session:
            stmt = select(func.count()).select_from(table).where(*conditions)  # type: ignore[arg-type]
            return int(await session.scalar(stmt) or 0)
    finally:
        await db.dispose()


async def test_help_lists_the_commands() -> None:
    result = await run_cli("--help")
    assert result.code == 0, result.err
    for command in ("serve", "migrate", "seed-demo", "create-organization"):
        assert command in result.out


async def test_create_organization_makes_an_owner_who_can_sign_in(cli_database: str) -> None:
    # when the command runs with the password in PORTICO_OWNER_PASSWORD
    result = await create_organization(cli_database, "northwind", "Owner@Northwind.test")
    # then it succeeds, and the owner signs in over GraphQL to their organization
    assert result.code == 0, result.err
    app = create_app(base_settings(database_url=cli_database))
    async with (
        app.router.lifespan_context(app),
        AsyncClient(transport=ASGITransport(app=app), base_url="http://portico.test") as http,
    ):
        gql = GraphQLClient(http)
        token = await gql.login("owner@northwind.test", OWNER_PASSWORD)
        me = await gql("{ me { ... on StaffUser { role organization { name } } } }", as_=token)
    assert me["me"] == {"role": "OWNER", "organization": {"name": "Org northwind"}}


async def test_a_taken_slug_exits_1_with_a_message_and_no_traceback(cli_database: str) -> None:
    # given an organization with the slug "initrode"
    assert (await create_organization(cli_database, "initrode", "first@initrode.test")).code == 0
    # when another is created with the same slug
    result = await create_organization(cli_database, "initrode", "second@initrode.test")
    # then the command fails cleanly, naming the option at fault, and writes nothing
    assert result.code == 1
    assert "Traceback" not in result.err + result.out
    assert "[INVALID_INPUT]" in result.err and "(--slug)" in result.err
    assert await count(cli_database, T_STAFF_USER, T_STAFF_USER.c.email == "second@initrode.test") == 0


async def test_a_short_password_is_refused_cleanly(cli_database: str) -> None:
    result = await create_organization(cli_database, "hooli", "owner@hooli.test", password="short")
    assert result.code == 1
    assert "Traceback" not in result.err
    assert "(--password)" in result.err
    assert await count(cli_database, T_ORGANIZATION, T_ORGANIZATION.c.portal_slug == "hooli") == 0


async def test_seed_demo_twice_changes_nothing_and_prints_the_logins(cli_database: str) -> None:
    first = await run_cli("seed-demo", database_url=cli_database, PUBLIC_PORTAL_URL="http://127.0.0.1:8000")
    assert first.code == 0, first.err
    invoices = await count(cli_database, T_INVOICE)
    second = await run_cli("seed-demo", database_url=cli_database, PUBLIC_PORTAL_URL="http://127.0.0.1:8000")
    assert second.code == 0, second.err
    assert await count(cli_database, T_INVOICE) == invoices == 21
    for output in (first.out, second.out):
        assert "http://127.0.0.1:8000/graphql" in output
        assert "owner@demo.portico.test" in output and "portico-demo-owner" in output
