"""The processes of ``make bench-fanout``: a private Redis, Portico app processes served as ``python app.py serve``
serves (the same uvicorn options), and the graphql-ws reference (Node, pinned in bench/package.json)."""

from __future__ import annotations

import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO

import httpx

from bench.harness import free_port
from core.settings import PROJECT_ROOT

BENCH_DIR = PROJECT_ROOT / "bench"
REFERENCE = BENCH_DIR / "reference" / "fanout.mjs"


@dataclass(frozen=True)
class Server:
    url: str  # http://127.0.0.1:PORT
    pid: int  # the process whose CPU and memory are measured

    @property
    def ws_url(self) -> str:
        return self.url.replace("http", "ws", 1) + "/graphql"


def raise_open_file_limit() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard != resource.RLIM_INFINITY else 1_048_576
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


@contextmanager
def redis_server() -> Iterator[str]:
    if shutil.which("redis-server") is None:
        sys.exit("redis-server is not installed")
    port = free_port()
    command = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait()


@contextmanager
def portico(database_url: str, broadcast_url: str, profile: str | None = None) -> Iterator[Server]:
    """An app process as ``python app.py serve`` runs it (under cProfile when ``profile`` names a file)."""
    port = free_port()
    env = {
        **os.environ,
        "ENVIRONMENT": "development",
        "DATABASE_URL": database_url,
        "BROADCAST_URL": broadcast_url,
        "SMTP_URL": "",
        "MAIL_WORKER": "false",
        "LOG_LEVEL": "WARNING",
        "PERSISTED_ONLY": "false",
        # one client address opens every socket: the budgets are raised (not off) so the storm is not throttled
        "RATE_LIMIT_ADDRESS_BURST": "1000000",
        "RATE_LIMIT_ADDRESS_PER_SECOND": "1000000",
    }
    if profile:
        command = [sys.executable, "-m", "bench.fanout.profiled", str(port), profile]
    else:
        command = [sys.executable, "app.py", "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
    with _process(command, env, f"http://127.0.0.1:{port}", cwd=str(PROJECT_ROOT)) as server:
        yield server


@contextmanager
def reference() -> Iterator[Server]:
    """The graphql-ws + ws reference server (``npm ci`` from bench/package-lock.json when it is missing)."""
    if not (BENCH_DIR / "node_modules" / "graphql-ws" / "package.json").exists():
        subprocess.run(
            ["npm", "ci", "--prefix", str(BENCH_DIR), "--no-audit", "--no-fund", "--loglevel=error"], check=True
        )
    port = free_port()
    with _process(["node", str(REFERENCE), str(port)], dict(os.environ), f"http://127.0.0.1:{port}") as server:
        yield server


def reference_versions() -> str:
    import json

    names = ("graphql-ws", "ws", "graphql")
    versions = [json.loads((BENCH_DIR / "node_modules" / n / "package.json").read_text())["version"] for n in names]
    node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    return ", ".join(f"{n} {v}" for n, v in zip(names, versions, strict=True)) + f", node {node}"


@contextmanager
def _process(command: list[str], env: dict[str, str], url: str, cwd: str | None = None) -> Iterator[Server]:
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            _wait_healthy(process, url, log)
            yield Server(url, process.pid)
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_healthy(process: subprocess.Popen[bytes], url: str, log: IO[bytes]) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            log.seek(0)
            sys.exit(f"{' '.join(process.args)} did not start:\n{log.read().decode(errors='replace')[-3000:]}")  # type: ignore[arg-type]
        time.sleep(0.1)


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")
