"""PostgreSQL LISTEN/NOTIFY (``postgres://``, ``postgresql://``): reconnects after restarts or a killed listener.

broadcaster's own postgres backend shares one asyncpg connection between LISTEN and NOTIFY, so concurrent
publishes fail with "another operation is in progress", and it never reconnects. Here publishing goes through
a small pool (``SELECT pg_notify($1, $2)``, one connection per concurrent publish) and listening has a
connection of its own, watched by a termination listener and a periodic health check.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import asyncpg

from subscriptions.backends.base import ReconnectingBackend

log = logging.getLogger(__name__)

#: NOTIFY payloads must be shorter than 8000 bytes (PostgreSQL's default configuration)
MAX_PAYLOAD_BYTES = 7999
PUBLISH_ATTEMPTS = 3
HEALTH_CHECK_SECONDS = 5.0
COMMAND_TIMEOUT = 5.0
_RETRYABLE = (asyncpg.PostgresConnectionError, asyncpg.InterfaceError, ConnectionError, OSError)


def asyncpg_dsn(url: str) -> str:
    """``postgres://``, ``postgresql://`` or SQLAlchemy's ``postgresql+asyncpg://`` as a DSN asyncpg accepts."""
    scheme, sep, rest = url.partition("://")
    return f"postgresql{sep}{rest}" if scheme.split("+")[0] in ("postgres", "postgresql") else url


class PostgresBackend(ReconnectingBackend):
    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.dsn = asyncpg_dsn(url)
        self._pool: asyncpg.Pool | None = None
        self._listener: asyncpg.Connection | None = None
        self._broken = asyncio.Event()

    @property
    def listener_pid(self) -> int | None:
        """The server process of the listening connection (to find it in ``pg_stat_activity``)."""
        return self._listener.get_server_pid() if self._listener is not None else None

    async def _open_publisher(self) -> None:
        self._pool = await asyncpg.create_pool(
            self.dsn, min_size=0, max_size=4, server_settings={"application_name": "portico-broadcast"}
        )

    async def _close_publisher(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    async def publish(self, channel: str, message: Any) -> None:
        assert self._pool is not None, "connect() first"
        text = message if isinstance(message, str) else str(message)
        if len(text.encode()) > MAX_PAYLOAD_BYTES:
            raise ValueError(f"NOTIFY payloads are limited to {MAX_PAYLOAD_BYTES} bytes; events carry ids only")
        for attempt in range(1, PUBLISH_ATTEMPTS + 1):
            try:
                await self._pool.execute("SELECT pg_notify($1, $2)", channel, text, timeout=COMMAND_TIMEOUT)
                return
            except _RETRYABLE:
                # a pooled connection killed by a restart fails once; the pool replaces it
                if attempt == PUBLISH_ATTEMPTS:
                    raise
                await asyncio.sleep(0.05 * attempt)

    async def _open_listener(self) -> None:
        self._broken.clear()
        connection = await asyncpg.connect(
            self.dsn, timeout=5, server_settings={"application_name": "portico-broadcast-listen"}
        )
        connection.add_termination_listener(lambda _connection: self._broken.set())
        self._listener = connection

    async def _close_listener(self) -> None:
        connection, self._listener = self._listener, None
        self._broken.set()
        if connection is not None and not connection.is_closed():
            with contextlib.suppress(Exception):
                await asyncio.wait_for(connection.close(), 2)
            if not connection.is_closed():
                connection.terminate()

    async def _listen(self, channel: str) -> None:
        if self._listener is None:
            raise ConnectionError("not connected")
        await self._listener.add_listener(channel, self._on_notification)

    async def _unlisten(self, channel: str) -> None:
        if self._listener is None:
            raise ConnectionError("not connected")
        await self._listener.remove_listener(channel, self._on_notification)

    def _on_notification(self, _connection: Any, _pid: int, channel: str, payload: str) -> None:
        self._deliver(channel, payload)

    async def _run_listener(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._broken.wait(), HEALTH_CHECK_SECONDS)
            if self._broken.is_set() or self._listener is None or self._listener.is_closed():
                raise ConnectionError("listening connection closed")
            # a connection can die without a word (a network partition): ask it something now and then
            async with self._lock:
                if self._listener is not None:
                    await self._listener.fetchval("SELECT 1", timeout=COMMAND_TIMEOUT)
