"""Publishing events after commit through broadcaster's ``Broadcast`` (on Portico's backends)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, cast

import orjson

from subscriptions.backends import DEFAULT_QUEUE_SIZE, SharedEvent, create_broadcast

if TYPE_CHECKING:
    from subscriptions.audiences import Audiences

log = logging.getLogger(__name__)


class Broker:
    """The process's connection to the broadcast backend (``BROADCAST_URL``).

    Each subscriber gets at most ``queue_size`` undelivered events; past that, its iteration raises
    ``subscriptions.backends.SlowConsumer``.
    """

    def __init__(self, url: str, *, queue_size: int = DEFAULT_QUEUE_SIZE) -> None:
        self.url = url
        self.broadcast = create_broadcast(url, queue_size=queue_size)
        self.audiences: Audiences | None = None  # the websocket fan-out (subscriptions.audiences), made on first use

    async def connect(self) -> None:
        await self.broadcast.connect()

    async def disconnect(self) -> None:
        await self.broadcast.disconnect()

    async def publish(self, channel: str, event: dict[str, Any]) -> None:
        """Publish ``event`` (ids only) on ``channel``. Call after the transaction has committed."""
        await self.broadcast.publish(channel=channel, message=orjson.dumps(event).decode())

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[AsyncIterator[dict[str, Any]]]:
        """The events published on ``channel`` from now on, as dicts."""
        async with self.listen(channel) as deliveries:

            async def events() -> AsyncIterator[dict[str, Any]]:
                async for delivery in deliveries:
                    yield dict(delivery.payload)  # a copy: the parsed payload is shared with other subscribers

            yield events()

    @asynccontextmanager
    async def listen(self, channel: str) -> AsyncIterator[AsyncIterator[SharedEvent]]:
        """Like ``subscribe``, but each event comes as the ``SharedEvent`` every local subscriber receives:
        parsed once, with a per-event memo for work subscribers can share. Treat its payload as read-only."""
        async with self.broadcast.subscribe(channel=channel) as subscriber:
            yield cast(AsyncIterator[SharedEvent], aiter(subscriber))

    def subscriber_count(self, channel: str) -> int:
        """Subscribers of ``channel`` in this process that events reach from now on: websocket subscriptions (the
        fan-out's feeds) and direct listeners (a sync point for tests: publish once they are there)."""
        direct = self.broadcast.subscriber_count(channel)
        hub = self.audiences
        if hub is None or not hub.listens(channel):
            return direct
        return direct - (1 if direct else 0) + hub.listening(channel)
