"""The embedded PostgreSQL (machines without a server: ``make run``) stops when the last process using it exits."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core.settings import PROJECT_ROOT

START = """
import sys
from pathlib import Path
from core.database import _embedded_server_url
url = _embedded_server_url(Path(sys.argv[1]), "postgres")
print(Path(sys.argv[1], "pg", "postmaster.pid").read_text().splitlines()[0], flush=True)
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}").exists() and "zombie" not in Path(f"/proc/{pid}/status").read_text().lower()


@pytest.mark.slow
def test_the_embedded_server_stops_with_the_process_that_started_it(tmp_path: Path) -> None:
    # given a process that started the embedded server under a data directory of its own
    started = subprocess.run(
        [sys.executable, "-c", START, str(tmp_path)], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120
    )
    assert started.returncode == 0, started.stderr
    postmaster = int(started.stdout.strip().splitlines()[-1])
    # when that process has exited, then its server is gone too (not left running beside the next `make run`)
    deadline = time.monotonic() + 15
    while _alive(postmaster) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _alive(postmaster)
