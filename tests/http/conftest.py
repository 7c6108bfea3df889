"""A real uvicorn server on 127.0.0.1 for the black-box checks (graphql-http's audit, GraphiQL in Chromium).

Started once for this package and stopped at the end; it serves the same migrated test database as the
in-process ``app`` fixture, so data made with ``factory`` is visible to it.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.settings import PROJECT_ROOT, Settings
from tests.live import running_server

NODE_MODULES = PROJECT_ROOT / "node_modules"


@pytest.fixture(scope="package")
def live_server(settings: Settings) -> Iterator[str]:
    """The base URL of ``uvicorn app:app`` serving the test database, GraphiQL and introspection on."""
    with running_server(settings) as base_url:
        yield base_url


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
