"""Running Alembic from code (the CLI's ``migrate``, ``make run``, tests)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from core.database import resolve_database_url
from core.settings import PROJECT_ROOT, Settings

ALEMBIC_INI = PROJECT_ROOT / "alembic.ini"


def alembic_config(url: URL | None = None) -> Config:
    config = Config(str(ALEMBIC_INI))
    config.set_main_option("script_location", str(Path(PROJECT_ROOT / "migrations")))
    if url is not None:
        config.attributes["database_url"] = url.render_as_string(hide_password=False)
    return config


async def run_alembic(url: URL, action: str, revision: str = "head") -> None:
    """Run ``alembic upgrade|downgrade revision`` on ``url`` over one async connection."""
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.begin() as connection:

            def run(sync_connection: object) -> None:
                config = alembic_config(url)
                config.attributes["connection"] = sync_connection
                getattr(command, action)(config, revision)

            await connection.run_sync(run)
    finally:
        await engine.dispose()


async def upgrade_head(settings: Settings) -> URL:
    """Create the database if needed and migrate it to the newest revision."""
    url = await resolve_database_url(settings)
    await run_alembic(url, "upgrade", "head")
    return url
