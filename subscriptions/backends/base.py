"""What the Redis and PostgreSQL backends share: one listening connection, reopened after any failure.

A supervisor task owns the listening connection. When it breaks (server restart, killed backend, network), the
supervisor reconnects with a growing delay and resubscribes every channel that still has subscribers; events
published while the connection was down are lost (pub/sub has no replay), the stream itself goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from broadcaster import Event
from broadcaster._backends.base import BroadcastBackend

from subscriptions.backends.fanout import SharedEvent

log = logging.getLogger(__name__)


class ReconnectingBackend(BroadcastBackend):
    """A ``BroadcastBackend`` whose listening connection survives restarts of the server behind it."""

    #: seconds before the first reconnection attempt; doubles up to ``max_retry_delay``
    first_retry_delay = 0.05
    max_retry_delay = 2.0
    #: how long ``connect()`` waits for the first listening connection before carrying on in the background
    connect_timeout = 5.0

    def __init__(self, url: str) -> None:
        self.url = url
        self._channels: set[str] = set()
        self._inbox: asyncio.Queue[Event] = asyncio.Queue()
        self._lock = asyncio.Lock()  # one command at a time on the listening connection
        self._live = asyncio.Event()  # the listening connection is up and subscribed to every channel
        self._supervisor: asyncio.Task[None] | None = None
        self.connections_opened = 0  # observability (and tests): 1 + the number of reconnections

    # ---- what a concrete backend provides -----------------------------------------------------------------

    async def _open_publisher(self) -> None:
        raise NotImplementedError

    async def _close_publisher(self) -> None:
        raise NotImplementedError

    async def _open_listener(self) -> None:
        raise NotImplementedError

    async def _close_listener(self) -> None:
        raise NotImplementedError

    async def _listen(self, channel: str) -> None:
        """Subscribe the listening connection to ``channel``; return once the server confirmed it."""
        raise NotImplementedError

    async def _unlisten(self, channel: str) -> None:
        raise NotImplementedError

    async def _run_listener(self) -> None:
        """Deliver messages until the listening connection breaks (raise) or closes (return)."""
        raise NotImplementedError

    # ---- broadcaster's backend interface -------------------------------------------------------------------

    async def connect(self) -> None:
        await self._open_publisher()
        self._supervisor = asyncio.create_task(self._supervise(), name=f"{type(self).__name__}-listener")
        try:
            await asyncio.wait_for(self._live.wait(), self.connect_timeout)
        except TimeoutError:
            log.error("%s: no listening connection yet; retrying in the background", type(self).__name__)

    async def disconnect(self) -> None:
        if self._supervisor is not None:
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._supervisor
            self._supervisor = None
        await self._close_publisher()

    async def subscribe(self, channel: str) -> None:
        async with self._lock:
            self._channels.add(channel)
            if self._live.is_set():
                await self._command(self._listen, channel)

    async def unsubscribe(self, channel: str) -> None:
        async with self._lock:
            self._channels.discard(channel)
            if self._live.is_set():
                await self._command(self._unlisten, channel)

    async def next_published(self) -> Event:
        return await self._inbox.get()

    # ---- internals --------------------------------------------------------------------------------------------

    def _deliver(self, channel: str, message: str) -> None:
        self._inbox.put_nowait(SharedEvent(channel, message))

    async def _command(self, command: Any, channel: str) -> None:
        try:
            await command(channel)
        except Exception as error:
            # the connection is broken: the supervisor reconnects and subscribes from ``_channels``
            log.warning("%s: %s %s failed: %r", type(self).__name__, command.__name__, channel, error)
            self._live.clear()
            await self._close_listener()

    async def _supervise(self) -> None:
        delay = self.first_retry_delay
        while True:
            try:
                async with self._lock:
                    await self._open_listener()
                    for channel in sorted(self._channels):
                        await self._listen(channel)
                    self.connections_opened += 1
                    self._live.set()
                if self.connections_opened > 1:
                    log.warning("%s: reconnected, %d channels resubscribed", type(self).__name__, len(self._channels))
                delay = self.first_retry_delay
                await self._run_listener()
            except asyncio.CancelledError:
                self._live.clear()
                with contextlib.suppress(Exception):
                    await self._close_listener()
                raise
            except Exception as error:
                log.warning("%s: listening connection lost: %r", type(self).__name__, error)
            self._live.clear()
            with contextlib.suppress(Exception):
                await self._close_listener()
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.max_retry_delay)
