"""Publishing events after commit through broadcaster's ``Broadcast``."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import orjson
from broadcaster import Broadcast

log = logging.getLogger(__name__)


class Broker:
    """The process's connection to the broadcast backend (``BROADCAST_URL``)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.broadcast = Broadcast(url)

    async def connect(self) -> None:
        await self.broadcast.connect()

    async def disconnect(self) -> None:
        await self.broadcast.disconnect()

    async def publish(self, channel: str, event: dict[str, Any]) -> None:
        """Publish ``event`` (ids only) on ``channel``. Call after the transaction has committed."""
        await self.broadcast.publish(channel=channel, message=orjson.dumps(event).decode())

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[AsyncIterator[dict[str, Any]]]:
        async with self.broadcast.subscribe(channel=channel) as subscriber:

            async def events() -> AsyncIterator[dict[str, Any]]:
                async for message in subscriber:
                    yield orjson.loads(message.message)

            yield events()
