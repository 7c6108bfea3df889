"""Served by plain ``uvicorn app:app`` (uvicorn's own logging set-up, not ``app.py serve``), the logs are still
the app's: every line JSON when JSON logs are on, uvicorn's lines included, and no colour codes in any."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time

import httpx
import pytest

from core.settings import PROJECT_ROOT, Settings
from tests.live import free_port


@pytest.mark.slow
def test_plain_uvicorn_logs_are_the_apps_json_lines_without_colour(settings: Settings) -> None:
    # given the app started by plain uvicorn, access log on, JSON logs asked for
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
    }
    command = [sys.executable, "-m", "uvicorn", "app:app", "--host", "127.0.0.1", "--port", str(port)]
    with tempfile.TemporaryFile() as log:
        server = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and server.poll() is None:
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/livez", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            # when it answers a request
            assert httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5).status_code == 200
        finally:
            server.terminate()
            server.wait(timeout=10)
        log.seek(0)
        output = log.read().decode()
    # then every line is a JSON object without an ANSI escape, and both the app's and uvicorn's lines are there
    lines = [line for line in output.splitlines() if line.strip()]
    assert "\x1b" not in output
    records = [json.loads(line) for line in lines]
    assert all(isinstance(record, dict) and "timestamp" in record for record in records), output
    loggers = {record.get("logger") for record in records}
    assert "services.runtime" in loggers, output  # the app's "started"
    assert "uvicorn.access" in loggers and "uvicorn.error" in loggers, output
    assert not any("color_message" in record for record in records)
