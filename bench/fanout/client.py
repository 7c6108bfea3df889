"""The benchmark's graphql-transport-ws client: one asyncio protocol per socket (websockets' sans-I/O client), no
task per socket, so one process can hold 10,000 sockets and still note each arrival when it happens.

Every server (Portico and the graphql-ws reference) is measured with this same client.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

import orjson
from websockets.client import ClientProtocol
from websockets.frames import Frame, Opcode
from websockets.http11 import Response
from websockets.protocol import State
from websockets.typing import Subprotocol
from websockets.uri import parse_uri

SUBSCRIPTION = """subscription { documentStatusChanged {
  document { id number ... on Estimate { status sentAt total } } previousStatus status actor { __typename } } }"""
PONG = b'{"type":"pong"}'


@dataclass
class Delivery:
    document_id: str
    sent_at: float  # the document's sentAt (the event's start as the server tells it)
    arrived: float


@dataclass(eq=False)
class Subscriber(asyncio.Protocol):
    """One socket: connection_init with ``token``, then one subscription; notes what arrives."""

    uri: str
    token: str
    ready: asyncio.Future[None]
    deliveries: list[Delivery] = field(default_factory=list)
    events: int = 0
    failed: list[dict[str, object]] = field(default_factory=list)  # errors, and next messages without the data
    closed_with: int | None = None
    transport: asyncio.Transport | None = None

    def __post_init__(self) -> None:
        self.ws = ClientProtocol(parse_uri(self.uri), subprotocols=[Subprotocol("graphql-transport-ws")], max_size=None)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.ws.send_request(self.ws.connect())
        self._flush()

    def data_received(self, data: bytes) -> None:
        arrived = time.time()
        self.ws.receive_data(data)
        for event in self.ws.events_received():
            if isinstance(event, Response):
                if event.status_code != 101:
                    self._fail(RuntimeError(f"handshake answered {event.status_code}"))
                    return
                self._send({"type": "connection_init", "payload": {"authorization": f"Bearer {self.token}"}})
            elif isinstance(event, Frame) and event.opcode is Opcode.TEXT:
                self._message(orjson.loads(event.data), arrived)
            elif isinstance(event, Frame) and event.opcode is Opcode.CLOSE and self.ws.close_rcvd is not None:
                self.closed_with = self.ws.close_rcvd.code
        self._flush()

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        self._fail(ConnectionError(f"lost before the subscription started ({exc})"))

    def _message(self, message: dict[str, object], arrived: float) -> None:
        kind = message.get("type")
        if kind == "next":
            event = ((message.get("payload") or {}).get("data") or {}).get("documentStatusChanged")  # type: ignore[union-attr]
            if not event:  # an answer with errors: noted, never a crash in data_received
                self.failed.append(message)
                return
            document = event["document"]
            sent_at = dt.datetime.fromisoformat(document["sentAt"]).timestamp()
            self.deliveries.append(Delivery(document["id"], sent_at, arrived))
            self.events += 1
        elif kind == "ping":
            self._send_text(PONG)
        elif kind == "connection_ack":
            self._send({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIPTION}})
            if not self.ready.done():
                self.ready.set_result(None)
        elif kind == "error":
            self.failed.append(message)
            self._fail(RuntimeError(f"subscription refused: {message}"))

    def _send(self, message: dict[str, object]) -> None:
        self._send_text(orjson.dumps(message))

    def _send_text(self, data: bytes) -> None:
        """Send a text frame while the connection is open; once a close frame went either way, nothing more goes
        out (a ping that arrives with the server's close is not answered rather than raising in data_received)."""
        if self.ws.state is State.OPEN:
            self.ws.send_text(data)

    def _flush(self) -> None:
        if self.transport is None:
            return
        for data in self.ws.data_to_send():
            if data:
                self.transport.write(data)
            else:
                self.transport.close()

    def _fail(self, error: Exception) -> None:
        if not self.ready.done():
            self.ready.set_exception(error)

    def arrived(self, document_id: str) -> bool:
        return any(d.document_id == document_id for d in reversed(self.deliveries))

    def close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            if self.ws.state is State.OPEN:
                self.ws.send_close(1000)
            self._flush()
            self.transport.close()


async def connect_all(uri: str, tokens: Iterable[str], *, parallel: int = 200) -> tuple[list[Subscriber], float]:
    """Open one subscriber per token, ``parallel`` handshakes in flight at a time; (subscribers, seconds) until
    every one was acknowledged and sent its subscribe."""
    loop = asyncio.get_running_loop()
    host, port = parse_uri(uri).host, parse_uri(uri).port
    limit = asyncio.Semaphore(parallel)

    async def one(token: str) -> Subscriber:
        async with limit:
            subscriber = Subscriber(uri, token, loop.create_future())
            await loop.create_connection(lambda: subscriber, host, port)
            await subscriber.ready
            return subscriber

    started = time.monotonic()
    subscribers = await asyncio.gather(*(one(token) for token in tokens))
    return list(subscribers), time.monotonic() - started


async def settled(subscribers: list[Subscriber], quiet: float = 1.0) -> None:
    """Wait until no event has arrived for ``quiet`` seconds."""
    while True:
        before = sum(s.events for s in subscribers)
        await asyncio.sleep(quiet)
        if sum(s.events for s in subscribers) == before:
            return


async def close_all(subscribers: list[Subscriber]) -> None:
    for subscriber in subscribers:
        subscriber.close()
    await asyncio.sleep(1)
