"""A real uvicorn server on 127.0.0.1 for the black-box checks (graphql-http's audit, GraphiQL in Chromium).

Started once for this package and stopped at the end; it serves the same migrated test database as the
in-process ``app`` fixture, so data made with ``factory`` is visible to it.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from core.settings import PROJECT_ROOT, Settings

NODE_MODULES = PROJECT_ROOT / "node_modules"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="package")
def live_server(settings: Settings) -> Iterator[str]:
    """The base URL of ``uvicorn app:app`` serving the test database, GraphiQL and introspection on."""
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
        "LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, "-m", "uvicorn", "app:app", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--log-level", "warning", "--no-access-log", "--ws", "websockets-sansio"]
    with tempfile.TemporaryFile() as log:
        server = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        base_url = f"http://127.0.0.1:{port}"
        try:
            _wait_until_healthy(server, base_url, log)
            yield base_url
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


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


def node_binary() -> str:
    """Node.js for the JS-side checks; `make install` puts their packages in node_modules."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not installed: the GraphQL-over-HTTP audit and the GraphiQL test need Node.js 18+")
    return node


def run_node(script: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [node_binary(), str(script), *args], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=timeout
    )


def require_node_package(name: str) -> None:
    if not (NODE_MODULES / name / "package.json").is_file():
        pytest.fail(f"node_modules/{name} is missing: run `make install` (npm ci)")
