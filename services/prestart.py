"""Container start-up: wait for PostgreSQL, then apply migrations (``python app.py migrate``) once.

``python -m services.prestart`` runs before ``python app.py serve`` (see the Dockerfile). Several app
containers may start together: a PostgreSQL advisory lock lets one of them migrate while the others wait,
then find nothing left to do.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence

import asyncpg
from sqlalchemy.engine import URL

from core.database import plain_dsn, resolve_database_url
from core.logging import configure_logging
from core.settings import PROJECT_ROOT, Settings, get_settings

log = logging.getLogger("portico.prestart")

# One key for every Portico process (the bytes of "pmigrate", shifted to fit PostgreSQL's signed bigint).
MIGRATION_LOCK_KEY = int.from_bytes(b"pmigrate", "big") >> 1

# Errors that mean "not up yet": refused or reset connections, DNS not ready, a server still starting.
NOT_READY = (OSError, asyncio.TimeoutError, asyncpg.CannotConnectNowError, asyncpg.TooManyConnectionsError)


async def wait_for_database(settings: Settings, *, timeout: float, interval: float = 1.0) -> URL:
    """Retry until the database answers (creating it if missing); raise TimeoutError after ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    attempt = 0
    while True:
        attempt += 1
        try:
            url = await resolve_database_url(settings)
            log.info("database is up", extra={"attempts": attempt})
            return url
        except NOT_READY as error:
            if loop.time() + interval > deadline:
                raise TimeoutError(f"PostgreSQL did not answer within {timeout:.0f} s: {error!r}") from error
            log.info("waiting for the database", extra={"attempt": attempt, "error": repr(error)})
            await asyncio.sleep(interval)


async def migrate_once(url: URL, command: Sequence[str]) -> int:
    """Run the migration ``command`` while holding the cluster-wide migration lock; returns its exit status."""
    connection = await asyncpg.connect(plain_dsn(url))
    try:
        await connection.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK_KEY)
        process = await asyncio.create_subprocess_exec(*command, cwd=PROJECT_ROOT)
        return await process.wait()
    finally:
        await connection.close()  # closing the session releases the advisory lock


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.prestart", description="Wait for PostgreSQL, migrate.")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for the database")
    args = parser.parse_args(argv)

    settings = get_settings()
    configure_logging(settings.log_level, json=settings.json_logs)
    try:
        url = asyncio.run(wait_for_database(settings, timeout=args.timeout))
    except TimeoutError as error:
        log.error("%s", error)
        return 1
    status = asyncio.run(migrate_once(url, [sys.executable, "app.py", "migrate"]))
    if status != 0:
        log.error("migration failed", extra={"exit_status": status})
    return status


if __name__ == "__main__":
    sys.exit(main())
