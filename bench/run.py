"""`make bench`: generate data, start the app (production settings) and the raw baseline, load both with wrk.

Environment: BENCH_SIZE (small | large, default small), BENCH_DURATION (seconds per run, default 10),
BENCH_WORKERS (app worker processes, default 1 — the reference figures are for one process).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx

from bench import datagen
from bench.queries import Q1, Q3
from core.database import drop_database, ensure_database, plain_dsn, server_url
from core.settings import PROJECT_ROOT, Settings
from services.migrations import run_alembic

SIZE = os.environ.get("BENCH_SIZE", "small")
DURATION = int(os.environ.get("BENCH_DURATION", "10"))
WORKERS = os.environ.get("BENCH_WORKERS", "1")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve(module: str, env: dict[str, str], workers: str = "1") -> Iterator[str]:
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        module,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
        "--workers",
        workers,
    ]
    log = tempfile.TemporaryFile()
    process = subprocess.Popen(
        command, cwd=PROJECT_ROOT, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(url + "/healthz", timeout=1).status_code < 500:
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
        log.close()


@dataclass
class Result:
    label: str
    concurrency: int
    rps: float
    p50_ms: float
    p99_ms: float


def wrk(label: str, url: str, concurrency: int, *, body: str | None, token: str) -> Result:
    script = Path(tempfile.mkstemp(suffix=".lua")[1])
    lines = [f'wrk.headers["Authorization"] = "Bearer {token}"']
    if body is not None:
        lines += [
            'wrk.method = "POST"',
            'wrk.headers["Content-Type"] = "application/json"',
            f"wrk.body = {json.dumps(body)}",
        ]
    script.write_text("\n".join(lines) + "\n")
    threads = 1 if concurrency == 1 else 2
    output = subprocess.run(
        ["wrk", "-t", str(threads), "-c", str(concurrency), "-d", f"{DURATION}s", "--latency", "-s", str(script), url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    script.unlink()
    if "Non-2xx" in output:
        raise SystemExit(f"{label}: non-2xx answers\n{output}")
    return Result(
        label,
        concurrency,
        float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),  # type: ignore[union-attr]
        _percentile(output, "50"),
        _percentile(output, "99"),
    )


def _percentile(output: str, which: str) -> float:
    value, unit = re.search(rf"\s{which}%\s+([\d.]+)(us|ms|s)", output).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


async def prepare(settings: Settings) -> str:
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
    return plain_dsn(url)


def graphql_body(query: str, variables: dict[str, object] | None = None) -> str:
    return json.dumps({"query": query, "variables": variables or {}})


def main() -> None:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    dsn = asyncio.run(prepare(settings))
    app_env = {
        "ENVIRONMENT": "production",
        "DATABASE_URL": dsn,
        "MAIL_WORKER": "false",
        "LOG_LEVEL": "WARNING",
        "BROADCAST_URL": "memory://",
        "DB_POOL_SIZE": "10",
    }
    with serve("app:app", app_env, WORKERS) as app_url, serve("bench.raw_server:app", {"BENCH_DSN": dsn}) as raw_url:
        login = httpx.post(
            app_url + "/graphql",
            json={
                "query": ("mutation($i: LoginInput!) { login(input: $i) { ... on Session { token } } }"),
                "variables": {"i": {"email": datagen.PORTAL_EMAIL, "password": datagen.PASSWORD, "portal": "bench"}},
            },
        ).json()
        token = login["data"]["login"]["token"]
        headers = {"authorization": f"Bearer {token}"}
        q1 = httpx.post(
            app_url + "/graphql", content=graphql_body(Q1), headers={**headers, "content-type": "application/json"}
        ).json()
        raw = httpx.get(raw_url + "/q1", headers=headers).json()
        if q1 != raw:
            raise SystemExit(f"Q1 parity failed:\n{json.dumps(q1)[:500]}\n{json.dumps(raw)[:500]}")
        results = []
        for concurrency in (1, 32):
            results.append(wrk("raw Q1", raw_url + "/q1", concurrency, body=None, token=token))
            results.append(wrk("Q1", app_url + "/graphql", concurrency, body=graphql_body(Q1), token=token))
            results.append(wrk("Q3 first page", app_url + "/graphql", concurrency, body=graphql_body(Q3), token=token))
        report(results)


def report(results: list[Result]) -> None:
    print(f"\nsize={SIZE} duration={DURATION}s app workers={WORKERS}")
    print(f"{'query':<20}{'c':>4}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'ratio':>8}")
    raw = {r.concurrency: r.rps for r in results if r.label == "raw Q1"}
    for r in results:
        ratio = f"{r.rps / raw[r.concurrency]:.2f}" if r.label == "Q1" else ""
        print(f"{r.label:<20}{r.concurrency:>4}{r.rps:>10.0f}{r.p50_ms:>9.2f}{r.p99_ms:>9.2f}{ratio:>8}")
    q1 = next(r for r in results if r.label == "Q1" and r.concurrency == 32)
    print(f"Q1 ratio_to_raw={q1.rps / raw[32]:.2f}")


if __name__ == "__main__":
    main()
