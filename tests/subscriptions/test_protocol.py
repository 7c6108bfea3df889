"""graphql-transport-ws details: keep-alive pings both ways (a consumer that cannot keep up: test_audiences.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import orjson
from starlette.routing import WebSocketRoute

from tests.factories import Factory
from tests.subscriptions.conftest import Sessions
from tests.subscriptions.wsclient import in_process


@contextmanager
def keep_alive_every(app: Any, seconds: float) -> Iterator[None]:
    view = next(route.app for route in app.routes if isinstance(route, WebSocketRoute) and route.path == "/graphql")
    interval = view.keep_alive_interval
    view.keep_alive_interval = seconds
    try:
        yield
    finally:
        view.keep_alive_interval = interval


async def test_the_server_pings_idle_connections_and_answers_pings(
    app: Any, factory: Factory, sessions: Sessions
) -> None:
    tenant = await factory.tenant()
    with keep_alive_every(app, 0.1):
        async with in_process(app, await sessions.staff(tenant.owner)) as ws:
            assert (await ws.ws.receive_json(timeout=5))["type"] == "ping"
            await ws.ws.send_json({"type": "ping"})
            message = await ws.ws.receive_json(timeout=5)
            while message["type"] == "ping":
                message = await ws.ws.receive_json(timeout=5)
            assert message["type"] == "pong"


class StuckClient:
    """The client end of an ASGI websocket whose reader stops after the first event: ``send`` blocks, as it does
    over TCP once the client's buffers are full (uvicorn waits for the transport to become writable)."""

    def __init__(self) -> None:
        self.inbound: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.sent: list[dict[str, Any]] = []
        self.reading = asyncio.Event()

    async def receive(self) -> dict[str, Any]:
        return await self.inbound.get()

    async def send(self, message: dict[str, Any]) -> None:
        self.sent.append(message)
        if message["type"] == "websocket.send" and orjson.loads(message["text"])["type"] == "next":
            await self.reading.wait()

    def client_says(self, message: dict[str, Any]) -> None:
        self.inbound.put_nowait({"type": "websocket.receive", "text": orjson.dumps(message).decode()})

    def server_said(self, kind: str) -> list[dict[str, Any]]:
        return [
            orjson.loads(m["text"])
            for m in self.sent
            if m["type"] == "websocket.send" and orjson.loads(m["text"])["type"] == kind
        ]


def raw_scope() -> dict[str, Any]:
    """An ASGI websocket scope for /graphql with the graphql-transport-ws subprotocol."""
    return {
        "type": "websocket",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "root_path": "",
        "scheme": "ws",
        "query_string": b"",
        "headers": [(b"host", b"portico.test"), (b"sec-websocket-protocol", b"graphql-transport-ws")],
        "client": ("127.0.0.1", 50000),
        "server": ("portico.test", 80),
        "subprotocols": ["graphql-transport-ws"],
    }
