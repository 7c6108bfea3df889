"""broadcaster's ``Broadcast`` with bounded per-subscriber queues and one upstream subscription per channel.

The stock ``Broadcast`` keeps an unbounded queue per subscriber, races when two first subscribers of a channel
arrive together (the second overwrites the first's registration, then ``KeyError``), and leaves subscribers
waiting forever on ``disconnect()``. This subclass keeps its API (``connect``, ``disconnect``, ``publish``,
``subscribe`` yielding a ``Subscriber`` of ``Event``s) and fixes the three.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import orjson
from broadcaster import Broadcast, Event
from broadcaster._backends.base import BroadcastBackend
from broadcaster._base import Subscriber, Unsubscribed

from core.metrics import EVENTS_DROPPED

log = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_QUEUE_SIZE = 256


class SlowConsumer(Exception):
    """The subscriber fell more than its queue's size behind: it was dropped rather than let memory grow."""


class SharedEvent(Event):
    """One upstream message, handed to every local subscriber of its channel as the same object.

    ``payload`` is parsed once per process; ``memo`` lets subscribers share work done for this event (a batch
    of reads for subscribers with the same scope) and disappears with the event.
    """

    def __init__(self, channel: str, message: str) -> None:
        super().__init__(channel, message)
        self._payload: dict[str, Any] | None = None
        self._memo: dict[Any, Any] = {}

    @property
    def payload(self) -> dict[str, Any]:
        if self._payload is None:
            self._payload = orjson.loads(self.message)
        return self._payload

    def memo(self, key: Any, build: Callable[[], T]) -> T:
        """The value built for ``key`` for this event, building it on first use."""
        try:
            return self._memo[key]  # type: ignore[no-any-return]
        except KeyError:
            value = self._memo[key] = build()
            return value


_OVERFLOW = object()


class BoundedSubscriber(Subscriber):
    """A ``Subscriber`` whose ``get()`` raises ``SlowConsumer`` once its queue overflowed."""

    def __init__(self, queue: asyncio.Queue[Any], channel: str) -> None:
        super().__init__(queue)
        self.channel = channel

    async def get(self) -> Event:
        item = await self._queue.get()
        if item is None:
            raise Unsubscribed()
        if item is _OVERFLOW:
            raise SlowConsumer(f"more than {self._queue.maxsize - 1} undelivered events on {self.channel}")
        return item  # type: ignore[no-any-return]


@dataclass(eq=False)
class _Channel:
    ready: asyncio.Future[None]
    queues: set[asyncio.Queue[Any]] = field(default_factory=set)


class FanoutBroadcast(Broadcast):
    """``Broadcast(backend=…)`` whose subscribers each get a queue of at most ``queue_size`` events."""

    def __init__(self, url: str | None = None, *, backend: BroadcastBackend | None = None, queue_size: int) -> None:
        super().__init__(url, backend=backend)
        self.queue_size = queue_size
        self._channels: dict[str, _Channel] = {}
        self._leaving: dict[str, asyncio.Future[None]] = {}  # upstream unsubscribes in flight, per channel
        self._listener_task: asyncio.Task[None] | None = None
        self.dropped_subscribers = 0

    @property
    def backend(self) -> BroadcastBackend:
        return self._backend

    def subscriber_count(self, channel: str) -> int:
        entry = self._channels.get(channel)
        return len(entry.queues) if entry is not None and entry.ready.done() else 0

    async def connect(self) -> None:
        await self._backend.connect()
        self._listener_task = asyncio.create_task(self._listener(), name="broadcast-fanout")

    async def disconnect(self) -> None:
        if self._listener_task is not None:
            self._listener_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener_task
        # wake every subscriber: their iteration ends instead of waiting forever
        for entry in self._channels.values():
            for queue in entry.queues:
                self._replace_contents(queue, None)
        self._channels.clear()
        await self._backend.disconnect()

    async def _listener(self) -> None:
        while True:
            event = await self._backend.next_published()
            try:
                self._fan_out(event)
            except Exception:  # one bad event must not stop delivery of the next ones
                log.exception("fan-out of an event failed")

    def _fan_out(self, event: Event) -> None:
        entry = self._channels.get(event.channel)
        if entry is None:
            return
        shared = event if isinstance(event, SharedEvent) else SharedEvent(event.channel, event.message)
        overflowed = []
        for queue in entry.queues:
            if queue.qsize() < self.queue_size:
                queue.put_nowait(shared)
            else:
                overflowed.append(queue)
        for queue in overflowed:
            # drop what it has not read: it is disconnected, and its backlog must not keep memory
            entry.queues.discard(queue)
            EVENTS_DROPPED.labels("listener").inc(queue.qsize() + 1)  # (what it had not read, and this one)
            self._replace_contents(queue, _OVERFLOW)
            self.dropped_subscribers += 1
            log.warning("dropped a slow subscriber of %s (%d events behind)", event.channel, self.queue_size)

    @staticmethod
    def _replace_contents(queue: asyncio.Queue[Any], item: Any) -> None:
        while not queue.empty():
            queue.get_nowait()
        queue.put_nowait(item)

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[Subscriber]:
        """Subscribe to ``channel``; once entered, every event published afterwards reaches this subscriber."""
        # at most queue_size events; the one more slot is for the overflow or close marker
        queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=self.queue_size + 1)
        entry = await self._join(channel)
        entry.queues.add(queue)
        try:
            yield BoundedSubscriber(queue, channel)
        finally:
            entry.queues.discard(queue)
            if not entry.queues and self._channels.get(channel) is entry:
                del self._channels[channel]
                await self._leave(channel)

    async def _leave(self, channel: str) -> None:
        # a task of its own: it completes even when the subscriber's task is being cancelled, and the next
        # first subscriber of the channel waits for it, so upstream never ends unsubscribed with subscribers
        leaving = self._leaving[channel] = asyncio.ensure_future(self._backend.unsubscribe(channel))

        def forget(done: asyncio.Future[None]) -> None:
            if self._leaving.get(channel) is done:
                del self._leaving[channel]
            if not done.cancelled() and done.exception() is not None:
                log.warning("unsubscribing from %s failed: %r", channel, done.exception())

        leaving.add_done_callback(forget)
        with contextlib.suppress(Exception):
            await asyncio.shield(leaving)

    async def _join(self, channel: str) -> _Channel:
        """The channel's entry, subscribing upstream once however many subscribers arrive at the same time."""
        while True:
            entry = self._channels.get(channel)
            if entry is None and channel in self._leaving:
                with contextlib.suppress(Exception):
                    await asyncio.shield(self._leaving[channel])
                continue
            if entry is None:
                entry = self._channels[channel] = _Channel(ready=asyncio.get_running_loop().create_future())
                try:
                    await self._backend.subscribe(channel)
                except BaseException as error:
                    if self._channels.get(channel) is entry:
                        del self._channels[channel]
                    entry.ready.set_exception(error if isinstance(error, Exception) else RuntimeError("cancelled"))
                    entry.ready.exception()  # retrieved: no "never retrieved" warning when nobody else waits
                    raise
                entry.ready.set_result(None)
                return entry
            try:
                await asyncio.shield(entry.ready)
            except Exception:
                continue  # the first subscriber's upstream subscribe failed: try again as a first subscriber
            if self._channels.get(channel) is entry:
                return entry
