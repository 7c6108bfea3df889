"""`make bench`: generate data, start the app (production settings) and the raw baseline, load both with wrk.

Environment: BENCH_SIZE (small | large, default small), BENCH_DURATION (seconds per run, default 10),
BENCH_WORKERS (app worker processes, default 1: the reference figures are for one process).
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
from bench.queries import M1, M2, Q1, Q2, Q3, document
from core.database import drop_database, ensure_database, plain_dsn, server_url
from core.ids import to_global_id
from core.persisted import sha256_hex
from core.settings import PROJECT_ROOT, Settings
from resolvers.pagination import encode_cursor
from services.migrations import run_alembic

SIZE = os.environ.get("BENCH_SIZE", "small")
DURATION = int(os.environ.get("BENCH_DURATION", "10"))
WORKERS = os.environ.get("BENCH_WORKERS", "1")
DEEP_POSITION = 10_000


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
        log.close()


@dataclass
class Result:
    label: str
    concurrency: int
    rps: float
    p50_ms: float
    p99_ms: float


def wrk(
    label: str, url: str, concurrency: int, token: str, *, body: str | None = None, bodies: list[str] | None = None
) -> Result:
    """Load ``url`` for BENCH_DURATION seconds: GET, one POST body, or POST bodies taken in turn."""
    threads = 1 if concurrency == 1 else 2
    lines = [f'wrk.headers["Authorization"] = "Bearer {token}"']
    if body is not None or bodies is not None:
        lines += ['wrk.method = "POST"', 'wrk.headers["Content-Type"] = "application/json"']
    if body is not None:
        lines.append(f"wrk.body = {json.dumps(body)}")
    if bodies is not None:  # each wrk thread walks its own stride of the list, so no body is sent twice
        lines.append("bodies = {" + ",".join(json.dumps(b) for b in bodies) + "}")
        lines += [
            "local next_offset = 0",
            "function setup(thread) thread:set('offset', next_offset); next_offset = next_offset + 1 end",
            "local i = 0",
            "function init(args) i = offset end",
            f"function request() i = i + {threads}; return wrk.format(nil, nil, nil, bodies[(i % #bodies) + 1]) end",
        ]
    script = Path(tempfile.mkstemp(suffix=".lua")[1])
    script.write_text("\n".join(lines) + "\n")
    try:
        output = subprocess.run(
            [
                "wrk",
                "-t",
                str(threads),
                "-c",
                str(concurrency),
                "-d",
                f"{DURATION}s",
                "--latency",
                "-s",
                str(script),
                url,
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        script.unlink()
    if "Non-2xx" in output:
        raise SystemExit(f"{label}: non-2xx answers\n{output}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    return Result(label, concurrency, rps, _percentile(output, "50"), _percentile(output, "99"))


def _percentile(output: str, which: str) -> float:
    value, unit = re.search(rf"\s{which}%\s+([\d.]+)(us|ms|s)", output).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


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


def graphql_body(query: str, variables: dict[str, object] | None = None, *, persisted: bool = False) -> str:
    if persisted:
        return json.dumps({"documentId": f"sha256:{sha256_hex(query)}", "variables": variables or {}})
    return json.dumps({"query": query, "variables": variables or {}})


def main() -> None:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    dsn, deep_cursor, fresh_estimates = asyncio.run(prepare(settings))
    app_env = {
        "ENVIRONMENT": "production",
        "DATABASE_URL": dsn,
        "MAIL_WORKER": "false",
        "LOG_LEVEL": "WARNING",
        "BROADCAST_URL": "memory://",
        "DB_POOL_SIZE": "10",
        # one session drives thousands of operations a second here: its budgets are raised (not switched off), so
        # every request still pays the rate-limit statement a real one pays
        "RATE_LIMIT_SESSION_BURST": "1000000000",
        "RATE_LIMIT_SESSION_PER_SECOND": "1000000000",
        "RATE_LIMIT_ADDRESS_BURST": "1000000000",
        "RATE_LIMIT_ADDRESS_PER_SECOND": "1000000000",
    }
    with serve("app:app", app_env, WORKERS) as app_url, serve("bench.raw_server:app", {"BENCH_DSN": dsn}) as raw_url:
        credentials = {"input": {"email": datagen.PORTAL_EMAIL, "password": datagen.PASSWORD, "portal": "bench"}}
        login = httpx.post(
            app_url + "/graphql",
            content=graphql_body(document("Login"), credentials, persisted=True),
            headers={"content-type": "application/json"},
        ).json()
        token = login["data"]["login"]["token"]
        graphql = app_url + "/graphql"
        q1 = graphql_body(Q1, {"first": 50})
        q1p = graphql_body(Q1, {"first": 50}, persisted=True)
        q2 = graphql_body(Q2)
        q2p = graphql_body(Q2, persisted=True)
        check_parity(
            graphql, raw_url, token, [("Q1", q1, "/q1"), ("Q1p", q1p, "/q1"), ("Q2", q2, "/q2"), ("Q2p", q2p, "/q2")]
        )
        q3_first = graphql_body(Q3, {"first": 20})
        q3_deep = graphql_body(Q3, {"first": 20, "after": deep_cursor})
        m1 = graphql_body(
            M1, {"input": {"targetId": to_global_id("Invoice", 1), "body": "bench comment"}}, persisted=True
        )
        m2 = [
            graphql_body(M2, {"id": estimate, "signatureName": "Bench"}, persisted=True) for estimate in fresh_estimates
        ]
        results = []
        for concurrency in (1, 32):
            results += [
                wrk("raw Q1", raw_url + "/q1", concurrency, token),
                wrk("Q1", graphql, concurrency, token, body=q1),
                wrk("Q1p", graphql, concurrency, token, body=q1p),
                wrk("raw Q2", raw_url + "/q2", concurrency, token),
                wrk("Q2", graphql, concurrency, token, body=q2),
                wrk("Q2p", graphql, concurrency, token, body=q2p),
                wrk("Q3 first page", graphql, concurrency, token, body=q3_first),
                wrk(f"Q3 at {DEEP_POSITION}", graphql, concurrency, token, body=q3_deep),
                wrk("M1 addComment", graphql, concurrency, token, body=m1),
                wrk(
                    "M2 acceptEstimate",
                    graphql,
                    concurrency,
                    token,
                    bodies=m2[: len(m2) // 2] if concurrency == 1 else m2[len(m2) // 2 :],
                ),
            ]
        report(results)


def check_parity(graphql: str, raw_url: str, token: str, cases: list[tuple[str, str, str]]) -> None:
    """The app and the raw baseline must answer with the same JSON, or the comparison means nothing."""
    headers = {"authorization": f"Bearer {token}", "content-type": "application/json"}
    for label, body, raw_path in cases:
        answer = httpx.post(graphql, content=body, headers=headers).json()
        raw = httpx.get(raw_url + raw_path, headers=headers).json()
        if answer != raw:
            raise SystemExit(f"{label} parity failed:\n{json.dumps(answer)[:800]}\n{json.dumps(raw)[:800]}")


def report(results: list[Result]) -> None:
    raw = {(r.label.split()[1], r.concurrency): r.rps for r in results if r.label.startswith("raw ")}
    first_page = {r.concurrency: r.rps for r in results if r.label == "Q3 first page"}
    print(f"\nsize={SIZE} duration={DURATION}s app_workers={WORKERS}")
    print(f"{'query':<20}{'c':>4}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}  ratio")
    for r in results:
        base = r.label.rstrip("p") if r.label in ("Q1p", "Q2p") else r.label
        if (base, r.concurrency) in raw and not r.label.startswith("raw"):
            ratio = f"{r.rps / raw[(base, r.concurrency)]:.2f} x raw"
        elif r.label.startswith("Q3 at"):
            ratio = f"{first_page[r.concurrency] / r.rps:.2f} x first page time"
        else:
            ratio = ""
        print(f"{r.label:<20}{r.concurrency:>4}{r.rps:>10.0f}{r.p50_ms:>9.2f}{r.p99_ms:>9.2f}  {ratio}")
    for label in ("Q1", "Q1p", "Q2", "Q2p"):
        for r in results:
            if r.label == label and r.concurrency == 32:
                print(f"{label} ratio_to_raw={r.rps / raw[(label.rstrip('p'), 32)]:.2f}")


if __name__ == "__main__":
    main()
