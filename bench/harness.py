"""The benchmark's machinery: the benchmark database (generated when missing, reset, one run at a time) and the
server processes (the app, the raw baseline) on free ports."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager

import asyncpg
import httpx

from bench import datagen
from core.database import drop_database, ensure_database, plain_dsn, server_url
from core.ids import to_global_id
from core.settings import PROJECT_ROOT, Settings
from resolvers.pagination import encode_cursor
from services.migrations import run_alembic

SIZE = os.environ.get("BENCH_SIZE", "small")
DEEP_POSITION = 10_000


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve(module: str, env: dict[str, str], workers: str = "1") -> Iterator[str]:
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", module, "--host", "127.0.0.1", "--port", str(port)]
    command += ["--log-level", "warning", "--no-access-log", "--workers", workers]
    log = tempfile.TemporaryFile()
    process = subprocess.Popen(
        command, cwd=PROJECT_ROOT, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                httpx.get(url + "/healthz", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            log.seek(0)
            raise SystemExit(f"{module} did not start:\n{log.read().decode(errors='replace')}")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.seek(0)
        _report_errors(module, log.read().decode(errors="replace"))
        log.close()


def _report_errors(module: str, output: str) -> None:
    """A server that logged errors while it was measured says so (its figures may hide a fallback), with the first
    error's lines."""
    lines = output.splitlines()
    errors = [n for n, line in enumerate(lines) if '"level": "error"' in line or line.startswith("Traceback")]
    if errors:
        first = "\n".join(lines[errors[0] : errors[0] + 120])[-3000:]
        progress(f"{module} logged {len(errors)} errors while measured; the first:\n{first}")


@contextmanager
def exclusive(settings: Settings) -> Iterator[None]:
    """One benchmark run at a time on the benchmark database (its reset deletes every session, so a second run
    would sign the first out): a session-level advisory lock, taken on the server's ``postgres`` database (the
    benchmark database may be dropped and made again), held until the run ends."""
    loop = asyncio.new_event_loop()
    key = f"portico_bench_{SIZE}"
    conn = loop.run_until_complete(asyncpg.connect(plain_dsn(server_url(settings, database="postgres"))))
    try:
        while not loop.run_until_complete(conn.fetchval("SELECT pg_try_advisory_lock(hashtext($1))", key)):
            progress(f"another benchmark run holds {key}; waiting for it to end")
            time.sleep(10)
        yield
    finally:
        loop.run_until_complete(conn.close())  # (closing the session releases the lock)
        loop.close()


async def prepare(settings: Settings) -> tuple[str, str, list[str]]:
    """The benchmark database (generated when missing), reset; its DSN, the deep cursor and fresh estimates."""
    url = server_url(settings, database=f"portico_bench_{SIZE}")
    await ensure_database(url)
    conn = await asyncpg.connect(plain_dsn(url))
    try:
        current = await datagen.marker(conn)
    finally:
        await conn.close()
    if current != SIZE:
        await drop_database(url)
        await ensure_database(url)
        await run_alembic(url, "upgrade", "head")
        conn = await asyncpg.connect(plain_dsn(url))
        try:
            await datagen.generate(conn, datagen.SIZES[SIZE], settings)
        finally:
            await conn.close()
    await run_alembic(url, "upgrade", "head")  # a kept database follows the migrations
    conn = await asyncpg.connect(plain_dsn(url))
    try:
        await datagen.reset(conn)
        deep = await conn.fetchrow(
            "SELECT issue_date, id FROM estimate WHERE contact_id = 1 AND status <> 'DRAFT' "
            "ORDER BY issue_date DESC, id DESC OFFSET $1 LIMIT 1",
            DEEP_POSITION - 1,
        )
        fresh = await conn.fetch(
            "SELECT id FROM estimate WHERE contact_id = 1 AND status = 'SENT' AND expiry_date >= current_date "
            "AND id > $1 ORDER BY id",
            datagen.BENCH_CONTACT_ESTIMATES,
        )
    finally:
        await conn.close()
    cursor = encode_cursor([deep["issue_date"], deep["id"]])
    return plain_dsn(url), cursor, [to_global_id("Estimate", row["id"]) for row in fresh]


async def undo_mutations(dsn: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await datagen.undo_mutations(conn)
    finally:
        await conn.close()
