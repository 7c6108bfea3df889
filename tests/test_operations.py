"""Operations: health check, request ids in responses and structured logs, masked errors, PostgreSQL restarts.

The failure tests run on a PostgreSQL server of their own (pgserver, started in a temporary directory), so
they can break a database or restart the server without disturbing the shared one other test runs use.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
import socket
import subprocess
import sys
import tempfile
import uuid
import warnings
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import structlog
from alembic.script import ScriptDirectory
from httpx import ASGITransport, AsyncClient
from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool
from starlette.applications import Starlette

from app import create_app
from core.database import Database, ensure_database, plain_dsn, to_asyncpg_url
from core.logging import configure_logging
from services.migrations import alembic_config, run_alembic
from services.prestart import migrate_once, wait_for_database
from tests.client import GraphQLClient
from tests.conftest import base_settings
from tests.factories import PASSWORD, Factory

STAFF_QUERY = "{ me { __typename } contacts { totalCount } }"
RECOVERY_DEADLINE_SECONDS = 10.0


# --- a private PostgreSQL server ---


class PrivatePostgres:
    """A throwaway PostgreSQL server (pgserver's binaries, a temporary data directory, a Unix socket)."""

    def __init__(self) -> None:
        with warnings.catch_warnings():
            # platformdirs warns at pgserver's import when XDG_RUNTIME_DIR is unset (containers, CI)
            warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
            import pgserver
            from pgserver._commands import pg_ctl

        self._pg_ctl = pg_ctl
        self.data_dir = Path(tempfile.mkdtemp(prefix="portico-pg-"))
        # cleanup_mode="delete": stop the postmaster and remove the data directory in stop()
        self.server = pgserver.get_server(self.data_dir, cleanup_mode="delete")

    def url(self, database: str) -> URL:
        return to_asyncpg_url(self.server.get_uri(database))

    def _ctl(self, *args: str) -> None:
        self._pg_ctl(["-w", "-t", "30", *args], pgdata=self.server.pgdata, user=self.server.system_user, timeout=60)

    def restart(self) -> None:
        """Restart the server; ``-m fast`` terminates every open connection, as a failover or upgrade does."""
        self._ctl("-m", "fast", "restart")

    def stop(self) -> None:
        self._ctl("-m", "fast", "stop")

    def start(self) -> None:
        # the options pgserver started it with: no TCP listener at all, only the socket in its own directory
        socket_dir = self.server.get_postmaster_info().socket_dir
        self._ctl("-o", '-h ""', "-o", f"-k {socket_dir}", "-l", str(self.server.log), "start")

    def destroy(self) -> None:
        """Stop the postmaster and delete the data directory."""
        # pgserver's cleanup only stops the postmaster it started itself, not one started after a restart
        with contextlib.suppress(subprocess.CalledProcessError):
            self._ctl("-m", "immediate", "stop")
        self.server.cleanup()


@pytest.fixture(scope="module")
def private_postgres() -> Iterator[PrivatePostgres]:
    server = PrivatePostgres()
    try:
        yield server
    finally:
        server.destroy()


@dataclass
class PrivateApp:
    app: Starlette
    http: AsyncClient
    gql: GraphQLClient
    db: Database
    factory: Factory


@asynccontextmanager
async def app_on(url: URL) -> AsyncIterator[PrivateApp]:
    """The real app, migrated and started against ``url``."""
    await ensure_database(url)
    await run_alembic(url, "upgrade", "head")
    settings = base_settings(database_url=plain_dsn(url))
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        # raise_app_exceptions=False: a request failing while the server is down is a 500 here, as for a client
        transport = ASGITransport(app=application, raise_app_exceptions=False)
        async with AsyncClient(transport=transport, base_url="http://portico.test") as http:
            db: Database = application.state.runtime.db
            yield PrivateApp(application, http, GraphQLClient(http), db, Factory(db, settings))


@pytest.fixture
async def private_app(private_postgres: PrivatePostgres) -> AsyncIterator[PrivateApp]:
    async with app_on(private_postgres.url(f"portico_ops_{uuid.uuid4().hex[:8]}")) as running:
        yield running


async def staff_token(running: PrivateApp) -> str:
    tenant = await running.factory.tenant()
    return await running.gql.login(tenant.owner.email, PASSWORD)


# --- structured logs captured as JSON lines ---


class JsonLogs:
    def __init__(self, stream: io.StringIO) -> None:
        self.stream = stream

    def records(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.stream.getvalue().splitlines() if line.startswith("{")]


@pytest.fixture
def json_logs(monkeypatch: pytest.MonkeyPatch) -> Iterator[JsonLogs]:
    """Configure production (JSON) logging into a buffer; restore the previous logging set-up afterwards."""
    root = logging.getLogger()
    saved_handlers, saved_level, saved_structlog = root.handlers[:], root.level, structlog.get_config()
    stream = io.StringIO()
    with monkeypatch.context() as patch:
        patch.setattr(sys, "stderr", stream)  # configure_logging's handler writes to sys.stderr
        configure_logging("INFO", json=True)
    try:
        yield JsonLogs(stream)
    finally:
        root.handlers, root.level = saved_handlers, saved_level
        structlog.configure(**saved_structlog)


# --- tests on the shared test database ---


async def test_healthz_answers_ok_with_the_database_up(http: AsyncClient) -> None:
    # given the running app / when /healthz is asked
    response = await http.get("/healthz")
    # then it answers 200 with the database up (it is /readyz's answer), and a request id
    assert response.status_code == 200
    assert response.json()["status"] == "ok" and response.json()["database"] == "up"
    assert len(response.headers["x-request-id"]) >= 8


async def test_request_id_is_kept_when_sane_and_replaced_when_not(http: AsyncClient) -> None:
    # given a proxy-provided request id / when a request carries it / then the response echoes it
    kept = await http.get("/healthz", headers={"x-request-id": "edge-3f2a9c1e-77"})
    assert kept.headers["x-request-id"] == "edge-3f2a9c1e-77"
    # given an id that could forge log lines / when a request carries it / then a fresh one replaces it
    forged = await http.get("/healthz", headers={"x-request-id": 'x"\n{"level":"critical"}'})
    assert forged.headers["x-request-id"] != 'x"\n{"level":"critical"}'
    assert forged.headers["x-request-id"].isalnum()
    # and every request gets its own id
    first, second = await http.get("/healthz"), await http.get("/healthz")
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


async def test_expected_errors_are_not_masked(gql: GraphQLClient) -> None:
    # given no session / when a staff query is asked / then the client gets the real code, not an internal error
    result = await gql.raw(STAFF_QUERY)
    assert "UNAUTHENTICATED" in result.error_codes
    assert "INTERNAL_SERVER_ERROR" not in result.error_codes


# --- failures, on the private server ---


@pytest.mark.slow
async def test_unexpected_error_is_masked_and_logged_with_the_request_id(
    private_app: PrivateApp, json_logs: JsonLogs
) -> None:
    # given a signed-in staff user and a database that lost a table behind the app's back
    token = await staff_token(private_app)
    async with private_app.db.transaction() as session:
        await session.execute(text("DROP TABLE contact CASCADE"))

    # when the staff user lists contacts, with a request id set by the proxy
    request_id = f"req-{uuid.uuid4().hex}"
    result = await private_app.gql.raw("{ contacts { totalCount } }", as_=token, **{"x-request-id": request_id})

    # then the client gets one opaque error carrying the request id, and no internals
    assert result.response.status_code == 200
    assert result.response.headers["x-request-id"] == request_id
    assert result.data is None
    [error] = result.errors
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id}
    assert error["path"] == ["contacts"]
    assert "UndefinedTable" not in result.response.text
    assert "does not exist" not in result.response.text

    # and the JSON log holds the error with its traceback under the same request id
    errors = [record for record in json_logs.records() if record.get("level") == "error"]
    assert [record["request_id"] for record in errors] == [request_id]
    assert errors[0]["logger"] == "portico.graphql"
    assert "UndefinedTableError" in errors[0]["exception"]
    assert "timestamp" in errors[0]


@pytest.mark.slow
async def test_healthz_reports_the_database_down_and_recovers(
    private_postgres: PrivatePostgres, private_app: PrivateApp, json_logs: JsonLogs
) -> None:
    # given a healthy app
    assert (await private_app.http.get("/healthz")).status_code == 200

    # when its PostgreSQL server is stopped
    await asyncio.to_thread(private_postgres.stop)
    try:
        down = await private_app.http.get("/healthz", headers={"x-request-id": "health-down-0001"})
    finally:
        await asyncio.to_thread(private_postgres.start)

    # then /healthz answers 503, and the failure is logged with the request id
    assert down.status_code == 503
    assert down.json()["status"] == "unavailable"
    assert any(
        record.get("request_id") == "health-down-0001" and record.get("level") == "error"
        for record in json_logs.records()
    )
    # and once the server is back, it answers 200 again without restarting the app
    assert await poll_until_ok(private_app, token=None)


async def poll_until_ok(running: PrivateApp, *, token: str | None) -> int:
    """Ask /healthz (and the staff query with ``token``) until both succeed; returns the attempts it took (0: never)."""
    loop = asyncio.get_running_loop()
    deadline, attempts = loop.time() + RECOVERY_DEADLINE_SECONDS, 0
    while loop.time() < deadline:
        attempts += 1
        health = await running.http.get("/healthz")
        if health.status_code == 200 and (token is None or await staff_query_ok(running, token)):
            return attempts
        await asyncio.sleep(0.2)
    return 0


async def staff_query_ok(running: PrivateApp, token: str) -> bool:
    response = await running.http.post(
        "/graphql", json={"query": STAFF_QUERY}, headers={"authorization": f"Bearer {token}"}
    )
    if response.status_code != 200:
        return False
    body = response.json()
    return not body.get("errors") and body["data"]["me"]["__typename"] == "StaffUser"


@pytest.mark.slow
async def test_service_recovers_by_itself_after_a_postgres_restart(
    private_postgres: PrivatePostgres, private_app: PrivateApp
) -> None:
    # given a working app whose pool holds several open connections
    token = await staff_token(private_app)
    assert await staff_query_ok(private_app, token)
    engine = private_app.db.engine
    async with engine.connect() as first, engine.connect() as second, engine.connect() as third:
        for connection in (first, second, third):
            await connection.execute(text("SELECT 1"))
    assert engine.pool.checkedin() >= 3  # type: ignore[attr-defined]

    # when PostgreSQL restarts (every open connection is terminated)
    await asyncio.to_thread(private_postgres.restart)

    # then, without restarting the app, the very first requests succeed: the pool's pre-ping replaces the dead
    # connections before use, so no client sees the restart once the server is back
    health = await private_app.http.get("/healthz")
    assert health.status_code == 200, health.text
    assert await staff_query_ok(private_app, token)
    # and every pooled connection was replaced: concurrent requests all succeed
    results = await asyncio.gather(*(staff_query_ok(private_app, token) for _ in range(6)))
    assert all(results)
    async with private_app.db.session() as session:
        assert await session.scalar(text("SELECT 1")) == 1


# --- container start-up (services/prestart.py) ---


async def test_prestart_gives_up_when_the_database_never_answers() -> None:
    # given a DATABASE_URL where nothing listens
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = base_settings(database_url=f"postgresql://postgres@127.0.0.1:{port}/portico")
    # when prestart waits for it / then it retries, then fails instead of hanging
    with pytest.raises(TimeoutError):
        await wait_for_database(settings, timeout=1.0, interval=0.2)


@pytest.mark.slow
async def test_prestart_migrates_once_when_several_containers_start_together(
    private_postgres: PrivatePostgres, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a database that does not exist yet, named by DATABASE_URL as in a container
    url = private_postgres.url(f"portico_prestart_{uuid.uuid4().hex[:8]}")
    monkeypatch.setenv("DATABASE_URL", plain_dsn(url))  # read by the `python app.py migrate` child processes
    settings = base_settings(database_url=plain_dsn(url))

    # when two app containers run their prestart at the same time
    ready = await wait_for_database(settings, timeout=10)
    command = [sys.executable, "app.py", "migrate"]
    statuses = await asyncio.gather(migrate_once(ready, command), migrate_once(ready, command))

    # then both succeed (the advisory lock serialises them) and the database is at head
    assert statuses == [0, 0]
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            revision = await connection.scalar(text("SELECT version_num FROM alembic_version"))
    finally:
        await engine.dispose()
    assert revision == ScriptDirectory.from_config(alembic_config()).get_current_head()
