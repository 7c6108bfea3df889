"""Choosing, creating and connecting to the PostgreSQL database.

Selection order: ``DATABASE_URL``; else the local server on 127.0.0.1:5432 (database created if
missing); else an embedded PostgreSQL (pgserver) under ``.data/``. Never SQLite.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Protocol

import asyncpg
from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import AsyncAdaptedQueuePool, ConnectionPoolEntry
from sqlalchemy.util import greenlet_spawn

from core.metrics import POOL_WAITING
from core.settings import Settings

log = logging.getLogger(__name__)

LOCAL_HOST, LOCAL_PORT = "127.0.0.1", 5432
AFTER_COMMIT = "portico.after_commit"
PUBLISHER = "portico.publisher"


class Publisher(Protocol):
    """What publishes events to every app process (``subscriptions.broker.Broker``)."""

    async def publish(self, channel: str, event: dict[str, Any]) -> None: ...


def after_commit(session: AsyncSession, callback: Callable[[], Awaitable[object]]) -> None:
    """Run ``callback`` after the transaction of ``session`` commits (see ``Database.transaction``)."""
    session.info.setdefault(AFTER_COMMIT, []).append(callback)


# What a lost, refused or exhausted database connection raises: the request could not be answered now, and a
# client may retry (HTTP 503, extensions.code SERVICE_UNAVAILABLE), unlike a bug (500).
_UNAVAILABLE: tuple[type[BaseException], ...] = (
    ConnectionError,  # refused, reset, aborted
    socket.gaierror,
    TimeoutError,
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CrashShutdownError,
    asyncpg.exceptions.TooManyConnectionsError,
    asyncpg.exceptions.ConnectionFailureError,
    sa_exc.TimeoutError,  # the pool had no connection to give within its timeout
    DisconnectionError,
)


_NETWORK_ERRNOS = {errno.ECONNREFUSED, errno.ECONNRESET, errno.EHOSTUNREACH, errno.ENETUNREACH, errno.ETIMEDOUT}


def database_unavailable(error: BaseException | None) -> bool:
    """Whether ``error`` (or what caused it) means the database could not be reached or used just now."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, _UNAVAILABLE):
            return True
        if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
            return True
        if isinstance(error, asyncpg.exceptions.InterfaceError) and "connection" in str(error).lower():
            return True
        if isinstance(error, OSError) and (error.errno in _NETWORK_ERRNOS or "Multiple exceptions" in str(error)):
            return True  # asyncpg trying each address of a host that refuses them all
        error = error.__cause__ or error.__context__
    return False


def publish_after_commit(session: AsyncSession, channel: str, event: dict[str, Any]) -> None:
    """Publish ``event`` on ``channel`` once the transaction of ``session`` commits (nothing on a rollback)."""
    publisher: Publisher | None = session.info.get(PUBLISHER)
    if publisher is not None:
        after_commit(session, lambda: publisher.publish(channel, event))


def to_asyncpg_url(url: str) -> URL:
    """Accept a plain ``postgresql://`` URL (or ``postgres://``) and pick the asyncpg driver."""
    parsed = make_url(url.replace("postgres://", "postgresql://", 1) if url.startswith("postgres://") else url)
    if parsed.get_backend_name() != "postgresql":
        raise ValueError(f"Portico needs PostgreSQL, got {parsed.get_backend_name()!r}")
    return parsed.set(drivername="postgresql+asyncpg")


def plain_dsn(url: URL) -> str:
    """The libpq-style DSN asyncpg.connect() understands."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def _embedded_server_url(data_dir: Path, database: str) -> URL:
    with warnings.catch_warnings():
        # pgserver warns at import when XDG_RUNTIME_DIR is unset (CI, containers); its fallback is fine
        warnings.simplefilter("ignore")
        try:
            import pgserver  # imported lazily: only machines without a server need it
        except ModuleNotFoundError as missing:
            raise RuntimeError(
                "no PostgreSQL answers on 127.0.0.1:5432 and the embedded one is not installed: set DATABASE_URL, "
                "or install portico[embedded] (pgserver)"
            ) from missing

    data_dir.mkdir(parents=True, exist_ok=True)
    # stopped when the last process using it exits (`make run`: its server ends with `serve`); a running one, left by
    # a process that was killed, is found by its postmaster.pid and reused
    server = pgserver.get_server(str(data_dir / "pg"), cleanup_mode="stop")
    uri = server.get_uri()
    return make_url(uri).set(drivername="postgresql+asyncpg", database=database)


def server_url(settings: Settings, database: str | None = None) -> URL:
    """The URL of the server Portico should use, before any database is created."""
    name = database or settings.database_name
    if settings.database_url:
        url = to_asyncpg_url(settings.database_url)
        return url.set(database=database) if database else url
    if _port_open(LOCAL_HOST, LOCAL_PORT):
        return URL.create("postgresql+asyncpg", username="postgres", host=LOCAL_HOST, port=LOCAL_PORT, database=name)
    log.info("no PostgreSQL on %s:%s; starting an embedded one under %s", LOCAL_HOST, LOCAL_PORT, settings.data_dir)
    return _embedded_server_url(settings.data_dir, name)


async def ensure_database(url: URL) -> None:
    """Create the database named in ``url`` if it does not exist."""
    admin = url.set(database="postgres")
    conn = await asyncpg.connect(plain_dsn(admin))
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", url.database)
        if not exists:
            await conn.execute(f'CREATE DATABASE "{url.database}"')
    except asyncpg.DuplicateDatabaseError:
        pass
    finally:
        await conn.close()


async def drop_database(url: URL) -> None:
    """Drop the database named in ``url``, disconnecting its sessions."""
    admin = url.set(database="postgres")
    conn = await asyncpg.connect(plain_dsn(admin))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)')
    finally:
        await conn.close()


async def resolve_database_url(settings: Settings) -> URL:
    """Pick the server and make sure the database exists; returns an asyncpg URL."""
    url = await asyncio.to_thread(server_url, settings)
    await ensure_database(url)
    return url


def make_engine(url: URL, settings: Settings) -> AsyncEngine:
    engine = create_async_engine(
        url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_recycle=1800,
        poolclass=CountedPool,
        # derived statuses (OVERDUE, EXPIRED) compare with current_date: one time zone for every process
        connect_args={"server_settings": {"timezone": "UTC", "application_name": "portico"}},
    )
    # A server restart closes every pooled connection; asyncpg notices the closed socket on its own, so a
    # checkout can refuse a dead connection without the round trip pool_pre_ping would add to each checkout
    # (a request checks out several: one per DataLoader batch).
    event.listen(engine.sync_engine.pool, "checkout", _refuse_closed_connection)
    return engine


class CountedPool(AsyncAdaptedQueuePool):
    """The pool, counting the checkouts that wait for a connection (none free: one is opened or given back)."""

    def _do_get(self) -> ConnectionPoolEntry:
        if not self._pool.empty():
            return super()._do_get()
        POOL_WAITING.inc()
        try:
            return super()._do_get()
        finally:
            POOL_WAITING.dec()


# SQLAlchemy names a pool's logger after its class: its lines (disposed, recreating) stay as quiet as its own pools
logging.getLogger(f"{__name__}.{CountedPool.__name__}").setLevel(logging.WARNING)


def _refuse_closed_connection(dbapi_connection: Any, record: Any, proxy: Any) -> None:
    if dbapi_connection._connection.is_closed():
        raise DisconnectionError("the server closed this connection")  # the pool retries with a new one


class Database:
    """The engine and the session factory; one per process, held in the app's state."""

    def __init__(self, engine: AsyncEngine, publisher: Publisher | None = None) -> None:
        self.engine = engine
        self.publisher = publisher  # events published after commit (``publish_after_commit``) go here
        self.sessionmaker = async_sessionmaker(engine, expire_on_commit=False, class_=AsyncSession)
        # reads run without BEGIN/ROLLBACK around each statement (two round trips saved per session); the same
        # pool, connections switched to autocommit while checked out for a read
        self.autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
        self.read_sessionmaker = async_sessionmaker(self.autocommit, expire_on_commit=False, class_=AsyncSession)
        self.observers: list[Callable[[str], None]] = []  # called with each statement ``fetch_row`` sends

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session for reads (and single-statement writes): each statement commits on its own."""
        async with self.read_sessionmaker() as session:
            yield session

    async def fetch_row(self, sql: str, arguments: Sequence[Any]) -> asyncpg.Record | None:
        """One statement of the app's own SQL text (``$1``, ``$2`` … parameters; ``core.sqltext``) on a connection
        of the pool, sent to asyncpg directly, outside any transaction: for the session check and the planned
        reads, whose whole work is one statement, and for which SQLAlchemy's connection, cursor and result around it
        cost as much as the rest of the request (0.76 -> 0.39 ms of CPU for an invoice's detail). ``observers`` see
        it, as ``before_cursor_execute`` listeners see every other statement."""
        return await self._direct("fetchrow", sql, arguments)  # type: ignore[no-any-return]

    async def fetch(self, sql: str, arguments: Sequence[Any]) -> list[asyncpg.Record]:
        """As ``fetch_row``, every row."""
        return await self._direct("fetch", sql, arguments)  # type: ignore[no-any-return]

    async def _direct(self, method: str, sql: str, arguments: Sequence[Any]) -> Any:
        for observe in self.observers:
            observe(sql)
        pooled = await self.engine.raw_connection()
        try:
            return await getattr(pooled.driver_connection, method)(sql, *arguments)
        except BaseException as error:
            if not isinstance(error, asyncpg.PostgresError):  # (a server's error leaves the connection usable)
                await greenlet_spawn(pooled.invalidate, error)
            raise
        finally:
            await greenlet_spawn(pooled.close)  # (back to the pool; SQLAlchemy may await in there)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session inside one transaction: committed on success, rolled back on any exception.

        Callbacks registered with ``after_commit`` run once the commit succeeded (never after a rollback).
        """
        async with self.sessionmaker() as session:
            session.info[PUBLISHER] = self.publisher
            async with session.begin():
                yield session
            callbacks = session.info.pop(AFTER_COMMIT, [])
        for callback in callbacks:
            try:
                await callback()
            except Exception:  # the transaction stands; a failed notification must not turn it into an error
                log.exception("after-commit callback failed")

    async def dispose(self) -> None:
        await self.engine.dispose()
