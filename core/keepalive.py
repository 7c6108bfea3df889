"""Keep-alive pings on ``graphql-transport-ws``.

Strawberry's ``keep_alive`` option only drives the legacy ``graphql-ws`` protocol; on ``graphql-transport-ws``
the server never pings. Proxies and load balancers drop websockets that stay silent (a staff dashboard waiting
for the next event), so after ``connection_ack`` the protocol's ``ping`` message goes to each socket every
``keep_alive_interval`` seconds; clients answer ``pong`` (graphql-ws does so by itself).

One timer wheel per process pings every socket: no task per socket, and the sockets are spread over the
interval's slots (a socket joins the slot of the moment it was acknowledged), so 10,000 sockets are not pinged in
one burst that would delay the events of that second.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from typing import Any
from weakref import WeakKeyDictionary

from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import BaseGraphQLTransportWSHandler

PING = '{"type":"ping"}'
SLOTS_PER_SECOND = 4


class PingWheel:
    """Pings each added socket (``websocket.push``) every ``interval`` seconds, from one task."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.slots: list[dict[Any, None]] = [{} for _ in range(max(1, math.ceil(interval * SLOTS_PER_SECOND)))]
        self.tick = 0
        self._task: asyncio.Task[None] | None = None

    def add(self, handler: Any) -> None:
        self.slots[self.tick][handler] = None
        handler._ping_slot = self.tick
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._turn(), name="graphql-transport-ws-pings")

    def discard(self, handler: Any) -> None:
        slot = getattr(handler, "_ping_slot", None)
        if slot is not None:
            self.slots[slot].pop(handler, None)

    async def _turn(self) -> None:
        step = self.interval / len(self.slots)
        while any(self.slots):
            await asyncio.sleep(step)
            self.tick = (self.tick + 1) % len(self.slots)
            for handler in list(self.slots[self.tick]):
                with contextlib.suppress(Exception):  # a socket that is gone: its handler's shutdown follows
                    handler.websocket.push(PING)


_WHEELS: WeakKeyDictionary[asyncio.AbstractEventLoop, dict[float, PingWheel]] = WeakKeyDictionary()


def ping_wheel(interval: float) -> PingWheel:
    """The running loop's wheel for ``interval``."""
    wheels = _WHEELS.setdefault(asyncio.get_running_loop(), {})
    wheel = wheels.get(interval)
    if wheel is None:
        wheel = wheels[interval] = PingWheel(interval)
    return wheel


class KeepAliveTransportWSHandler(BaseGraphQLTransportWSHandler[Any, Any]):
    """``graphql-transport-ws`` with server pings, while the view's ``keep_alive`` is on; the wait for
    ``connection_init`` is a timer of the loop, not a task per socket."""

    _wheel: PingWheel | None = None
    _init_timer: asyncio.TimerHandle | None = None

    def on_request_accepted(self) -> None:
        delay = self.connection_init_wait_timeout.total_seconds()
        self._init_timer = asyncio.get_running_loop().call_later(delay, self._init_timed_out)

    def _init_timed_out(self) -> None:
        if self.connection_init_received:
            return
        self.connection_timed_out = True
        task = asyncio.create_task(self.websocket.close(code=4408, reason="Connection initialisation timeout"))
        _TIMEOUTS.add(task)
        task.add_done_callback(_TIMEOUTS.discard)

    async def handle_connection_init(self, message: Any) -> None:
        if self._init_timer is not None and not self.connection_timed_out:
            self._init_timer.cancel()
        await super().handle_connection_init(message)
        if self.connection_acknowledged and self._wheel is None and getattr(self.view, "keep_alive", False):
            self._wheel = ping_wheel(float(getattr(self.view, "keep_alive_interval", None) or 15))
            self._wheel.add(self)

    async def shutdown(self) -> None:
        if self._init_timer is not None:
            self._init_timer.cancel()
        if self._wheel is not None:
            self._wheel.discard(self)
        await super().shutdown()


_TIMEOUTS: set[asyncio.Task[None]] = set()
