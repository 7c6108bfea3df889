"""Alembic migrations against real PostgreSQL: each test migrates its own throwaway database."""

from __future__ import annotations

import asyncio
import pprint
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import URL, Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool
from sqlmodel import SQLModel

import models  # noqa: F401  (registers every table on SQLModel.metadata)
from core.database import drop_database, ensure_database, server_url
from services.migrations import alembic_config, run_alembic
from tests.conftest import base_settings

# The comparison options of migrations/env.py: what `alembic revision --autogenerate` would see.
COMPARE_OPTIONS = {"compare_type": True, "compare_server_default": True}

# Everything a migration can leave behind in the public schema, by kind.
LEFTOVERS_SQL = """
SELECT 'relation ' || c.relkind::text || ' ' || c.relname::text
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'public' AND c.relname <> 'alembic_version'
   AND NOT (c.relkind = 'i' AND c.relname = 'alembic_version_pkc')
UNION ALL
SELECT 'type ' || t.typname::text
  FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
 WHERE n.nspname = 'public' AND t.typtype IN ('e', 'd', 'r', 'm', 'c')
   AND (t.typrelid = 0 OR (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c')
UNION ALL
SELECT 'function ' || p.proname::text
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname = 'public'
UNION ALL
SELECT 'extension ' || e.extname::text FROM pg_extension e WHERE e.extname <> 'plpgsql'
"""


@pytest.fixture
async def empty_database() -> AsyncIterator[URL]:
    """A database of its own on the test server, empty, dropped at the end."""
    base = await asyncio.to_thread(server_url, base_settings())
    url = base.set(database=f"portico_migrations_{uuid.uuid4().hex[:12]}")
    await ensure_database(url)
    try:
        yield url
    finally:
        await drop_database(url)


async def _on_connection(url: URL, work: Any) -> Any:
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(work)
    finally:
        await engine.dispose()


async def schema_differences(url: URL) -> list[Any]:
    """What autogenerate would put into a new revision for this database (empty when models and DB agree)."""

    def compare(connection: Connection) -> list[Any]:
        context = MigrationContext.configure(connection, opts=COMPARE_OPTIONS)
        return list(compare_metadata(context, SQLModel.metadata))

    return await _on_connection(url, compare)  # type: ignore[no-any-return]


async def fetch_column(url: URL, sql: str) -> list[Any]:
    def run(connection: Connection) -> list[Any]:
        return list(connection.execute(text(sql)).scalars())

    return await _on_connection(url, run)  # type: ignore[no-any-return]


async def current_revision(url: URL) -> str | None:
    def run(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    return await _on_connection(url, run)  # type: ignore[no-any-return]


def head_revision() -> str:
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    assert len(heads) == 1, f"migrations must have exactly one head, found {heads}: merge them (alembic merge heads)"
    return heads[0]


def test_migrations_have_a_single_head() -> None:
    # given the migration scripts / when their heads are listed / then there is one line of history
    assert head_revision()


async def test_upgrade_head_on_empty_database_matches_the_models(empty_database: URL) -> None:
    # given an empty database
    assert await fetch_column(empty_database, LEFTOVERS_SQL) == []

    # when it is migrated to head
    await run_alembic(empty_database, "upgrade", "head")

    # then it is at head, holds every model table, and autogenerate finds nothing to add
    assert await current_revision(empty_database) == head_revision()
    tables = await fetch_column(
        empty_database, "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
    )
    assert sorted(tables) == sorted(SQLModel.metadata.tables)
    differences = await schema_differences(empty_database)
    assert differences == [], (
        "the models and the migrations disagree; review `alembic revision --autogenerate` output:\n"
        + pprint.pformat(differences)
    )


async def test_downgrade_base_leaves_nothing_and_upgrade_works_again(empty_database: URL) -> None:
    # given a database at head
    await run_alembic(empty_database, "upgrade", "head")

    # when it is downgraded to base
    await run_alembic(empty_database, "downgrade", "base")

    # then no table, sequence, index, type, function or extension is left (only Alembic's bookkeeping)
    assert await current_revision(empty_database) is None
    assert await fetch_column(empty_database, LEFTOVERS_SQL) == []

    # and migrating up again gives the same schema as the models
    await run_alembic(empty_database, "upgrade", "head")
    assert await current_revision(empty_database) == head_revision()
    assert await schema_differences(empty_database) == []
