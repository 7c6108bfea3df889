"""Real uvicorn servers for black-box tests (websockets, audits, browsers, several processes)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from core.settings import PROJECT_ROOT, Settings


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_server(settings: Settings, *, workers: int | None = None, **env_overrides: str) -> Iterator[str]:
    """``uvicorn app:app`` on a free 127.0.0.1 port, serving ``settings.database_url``; yields its base URL. With
    ``workers``, ``app.py serve --workers N`` instead: that many processes, as production runs."""
    port = free_port()
    env = {
        **os.environ,
        "ENVIRONMENT": "test",
        "DATABASE_URL": settings.database_url,
        "BROADCAST_URL": "memory://",
        "SMTP_URL": "",
        "STRIPE_SECRET_KEY": "",
        "GRAPHIQL": "true",
        "INTROSPECTION": "true",
        "MAIL_WORKER": "false",
        "LOG_LEVEL": "WARNING",
        # test clients all come from 127.0.0.1 at test speed; a test of the limits passes real budgets
        "RATE_LIMIT_SESSION_BURST": "1000000000",
        "RATE_LIMIT_SESSION_PER_SECOND": "1000000000",
        "RATE_LIMIT_ADDRESS_BURST": "1000000000",
        "RATE_LIMIT_ADDRESS_PER_SECOND": "1000000000",
        **env_overrides,
    }
    if workers is None:
        command = [sys.executable, "-m", "uvicorn", "app:app", "--host", "127.0.0.1", "--port", str(port)]
        command += ["--log-level", "warning", "--no-access-log", "--ws", "websockets-sansio"]
    else:
        command = [sys.executable, "app.py", "serve", "--host", "127.0.0.1", "--port", str(port)]
        command += ["--workers", str(workers)]
    with _served(command, env, port) as (base_url, _):
        yield base_url


class Output:
    """What a server wrote to stdout and stderr, readable once it stopped."""

    text = ""


@contextmanager
def _served(command: list[str], env: dict[str, str], port: int) -> Iterator[tuple[str, Output]]:
    """``command`` started, healthy (or the test fails with its output), stopped with SIGTERM as a deployment stops
    it; its output complete after the block."""
    output = Output()
    with tempfile.TemporaryFile() as log:
        server = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        base_url = f"http://127.0.0.1:{port}"
        try:
            _wait_until_healthy(server, base_url, log)
            yield base_url, output
        finally:
            server.terminate()
            try:
                server.wait(timeout=20)  # (a tracing exporter flushes what it batched on the way out)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
            log.seek(0)
            output.text = log.read().decode(errors="replace")


def _wait_until_healthy(server: subprocess.Popen[bytes], base_url: str, log: object, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            break
        try:
            if httpx.get(f"{base_url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    log.seek(0)  # type: ignore[attr-defined]
    output = log.read().decode(errors="replace")  # type: ignore[attr-defined]
    pytest.fail(f"uvicorn did not become healthy at {base_url} (exit code {server.poll()}):\n{output}")


@contextmanager
def plain_uvicorn(settings: Settings, **env_overrides: str) -> Iterator[tuple[str, Output]]:
    """``uvicorn app:app`` with uvicorn's own logging set-up (no flags), JSON logs at INFO, on a free port: its base
    URL and its output (complete after the block: the server is stopped with SIGTERM, as a deployment stops it)."""
    port = free_port()
    env = {
        **os.environ,
        "ENVIRONMENT": "development",
        "DATABASE_URL": settings.database_url,
        "BROADCAST_URL": "memory://",
        "SMTP_URL": "",
        "MAIL_WORKER": "false",
        "LOG_JSON": "true",
        "LOG_LEVEL": "INFO",
        **env_overrides,
    }
    command = [sys.executable, "-m", "uvicorn", "app:app", "--host", "127.0.0.1", "--port", str(port)]
    with _served(command, env, port) as served:
        yield served
