"""A small graphql-transport-ws client for tests, over httpx-ws: in-process (ASGI) or against a live server."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from httpx import AsyncClient
from httpx_ws import AsyncWebSocketSession, WebSocketDisconnect, aconnect_ws
from httpx_ws.transport import ASGIWebSocketTransport

PROTOCOL = "graphql-transport-ws"
IN_PROCESS_URL = "http://portico.test"


class Socket:
    """One graphql-transport-ws connection."""

    def __init__(self, ws: AsyncWebSocketSession) -> None:
        self.ws = ws
        self._ids = itertools.count(1)

    async def init(self, token: str | None) -> dict[str, Any]:
        payload = {"authorization": f"Bearer {token}"} if token else {}
        await self.ws.send_json({"type": "connection_init", "payload": payload})
        return await self.receive()

    async def subscribe(self, query: str, variables: dict[str, Any] | None = None) -> str:
        op_id = str(next(self._ids))
        await self.ws.send_json(
            {"id": op_id, "type": "subscribe", "payload": {"query": query, "variables": variables or {}}}
        )
        return op_id

    async def complete(self, op_id: str) -> None:
        await self.ws.send_json({"id": op_id, "type": "complete"})

    async def receive(self, timeout: float = 5) -> dict[str, Any]:
        """The next message other than a keep-alive ping (answered)."""
        while True:
            message = await self.ws.receive_json(timeout=timeout)
            if message.get("type") == "ping":
                await self.ws.send_json({"type": "pong"})
                continue
            return message  # type: ignore[no-any-return]

    async def next_data(self, timeout: float = 5) -> dict[str, Any]:
        message = await self.receive(timeout)
        assert message["type"] == "next", message
        assert "errors" not in message["payload"], message
        return message["payload"]["data"]  # type: ignore[no-any-return]

    async def silent(self, seconds: float = 0.3) -> None:
        """Assert nothing arrives for ``seconds``."""
        try:
            message = await self.receive(timeout=seconds)
        except TimeoutError:
            return
        raise AssertionError(f"expected nothing, got {message}")

    async def closed(self, timeout: float = 5) -> WebSocketDisconnect:
        """Wait for the server to close the socket; returns the close (``.code``, ``.reason``)."""
        try:
            while True:
                await self.receive(timeout=timeout)
        except WebSocketDisconnect as closed:
            return closed


@asynccontextmanager
async def in_process(app: Any, token: str | None = None, **headers: str) -> AsyncIterator[Socket]:
    """A websocket to the in-process app (the test's own broker and database), initialised with ``token``."""
    transport = ASGIWebSocketTransport(app=app)
    async with AsyncClient(transport=transport, base_url=IN_PROCESS_URL, headers=headers) as client:
        async with aconnect_ws(f"{IN_PROCESS_URL}/graphql", client, subprotocols=[PROTOCOL]) as ws:
            socket = Socket(ws)
            if token is not None:
                ack = await socket.init(token)
                assert ack["type"] == "connection_ack", ack
            yield socket


@asynccontextmanager
async def live(base_url: str, token: str | None = None) -> AsyncIterator[Socket]:
    """A websocket over TCP to a running server."""
    async with AsyncClient(base_url=base_url) as client:
        async with aconnect_ws(f"{base_url}/graphql", client, subprotocols=[PROTOCOL]) as ws:
            socket = Socket(ws)
            if token is not None:
                ack = await socket.init(token)
                assert ack["type"] == "connection_ack", ack
            yield socket


async def until(condition: Callable[[], bool], timeout: float = 5) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.005)
