"""``memory://``: one process, no server. The default for development and tests."""

from __future__ import annotations

import asyncio
from typing import Any

from broadcaster import Event
from broadcaster._backends.base import BroadcastBackend

from subscriptions.backends.fanout import SharedEvent


class MemoryBackend(BroadcastBackend):
    """Events published in this process reach this process's subscribers, in publishing order."""

    def __init__(self, url: str = "memory://") -> None:
        self._subscribed: set[str] = set()
        self._inbox: asyncio.Queue[Event] = asyncio.Queue()

    async def connect(self) -> None:
        pass

    async def disconnect(self) -> None:
        pass

    async def subscribe(self, channel: str) -> None:
        self._subscribed.add(channel)

    async def unsubscribe(self, channel: str) -> None:
        self._subscribed.discard(channel)

    async def publish(self, channel: str, message: Any) -> None:
        if channel in self._subscribed:
            self._inbox.put_nowait(SharedEvent(channel, message))

    async def next_published(self) -> Event:
        return await self._inbox.get()
