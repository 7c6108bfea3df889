"""The fan-out benchmark's client (``bench.fanout.client``) against a real uvicorn server that closes a socket."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import uvicorn

from bench.fanout.client import Subscriber
from tests.live import free_port


async def ping_then_close(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """graphql-transport-ws up to the subscribe; then a ping and, right behind it, a close with 4403."""
    if scope["type"] != "websocket":
        return
    await receive()  # websocket.connect
    await send({"type": "websocket.accept", "subprotocol": "graphql-transport-ws"})
    await receive()  # connection_init
    await send({"type": "websocket.send", "text": '{"type":"connection_ack"}'})
    await receive()  # subscribe
    await send({"type": "websocket.send", "text": '{"type":"ping"}'})
    await send({"type": "websocket.close", "code": 4403, "reason": "Session ended"})


@contextmanager
def serving(app: Any) -> Iterator[str]:
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, ws="websockets-sansio", lifespan="off", log_level="error")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    try:
        yield f"ws://127.0.0.1:{port}/graphql"
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.mark.asyncio
async def test_a_ping_that_arrives_with_the_close_does_not_break_the_client() -> None:
    # given a server that pings and closes at once, read by the client in one go (its loop busy meanwhile)
    loop = asyncio.get_running_loop()
    failures: list[dict[str, Any]] = []
    loop.set_exception_handler(lambda _loop, context: failures.append(context))
    try:
        with serving(ping_then_close) as uri:
            subscriber = Subscriber(uri, "token", loop.create_future())
            host, port = uri.removeprefix("ws://").split("/")[0].split(":")
            await loop.create_connection(lambda: subscriber, host, int(port))
            await subscriber.ready
            time.sleep(0.3)  # the ping and the close frame both wait in the socket's buffer

            # when the client reads them
            deadline = time.monotonic() + 5
            while subscriber.closed_with is None and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
    finally:
        loop.set_exception_handler(None)

    # then it notes the close code, and nothing raised in data_received
    assert subscriber.closed_with == 4403
    assert failures == []
