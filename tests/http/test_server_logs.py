"""Served by plain ``uvicorn app:app`` (uvicorn's own logging set-up, not ``app.py serve``), the logs are still
the app's: every line JSON when JSON logs are on, uvicorn's lines included, and no colour codes in any."""

from __future__ import annotations

import json

import httpx
import pytest

from core.settings import Settings
from tests.live import plain_uvicorn


@pytest.mark.slow
def test_plain_uvicorn_logs_are_the_apps_json_lines_without_colour(settings: Settings) -> None:
    # given the app started by plain uvicorn, access log on, JSON logs asked for
    with plain_uvicorn(settings) as (url, log):
        # when it answers a request
        assert httpx.get(f"{url}/readyz", timeout=5).status_code == 200
    output = log.text
    # then every line is a JSON object without an ANSI escape, and both the app's and uvicorn's lines are there
    lines = [line for line in output.splitlines() if line.strip()]
    assert "\x1b" not in output
    records = [json.loads(line) for line in lines]
    assert all(isinstance(record, dict) and "timestamp" in record for record in records), output
    loggers = {record.get("logger") for record in records}
    assert "services.runtime" in loggers, output  # the app's "started"
    assert "uvicorn.access" in loggers and "uvicorn.error" in loggers, output
    assert not any("color_message" in record for record in records)
