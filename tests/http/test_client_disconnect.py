"""A client that goes away before its request body arrived (wrk stopping mid-request, a closed browser tab) costs
nothing: no traceback in the log, no operation run, the app keeps serving."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from tests.factories import Factory
from tests.subscriptions.conftest import Sessions


async def disconnected_request(app: Any, headers: list[tuple[bytes, bytes]]) -> list[dict[str, Any]]:
    """POST /graphql whose client disconnects before sending a byte of its body."""
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
        "path": "/graphql", "raw_path": b"/graphql", "query_string": b"", "root_path": "",
        "headers": [(b"content-type", b"application/json"), (b"content-length", b"64"), *headers],
        "client": ("127.0.0.1", 50000), "server": ("portico.test", 80),
    }  # fmt: skip
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent


@pytest.mark.parametrize("who", ["anonymous", "portal"])
async def test_a_client_gone_before_its_body_leaves_no_error_in_the_log(
    app: Any, factory: Factory, sessions: Sessions, caplog: pytest.LogCaptureFixture, who: str
) -> None:
    headers = []
    if who == "portal":
        tenant = await factory.tenant()
        token = await sessions.portal(tenant.person_a)
        headers = [(b"authorization", f"Bearer {token}".encode())]
    with caplog.at_level(logging.INFO):
        sent = await disconnected_request(app, headers)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text
    assert sent[0]["status"] == 499
