"""Keep-alive pings on ``graphql-transport-ws``.

Strawberry's ``keep_alive`` option only drives the legacy ``graphql-ws`` protocol; on ``graphql-transport-ws``
the server never pings. Proxies and load balancers drop websockets that stay silent (a staff dashboard waiting
for the next event), so after ``connection_ack`` this handler sends the protocol's ``ping`` message every
``keep_alive_interval`` seconds; clients answer ``pong`` (graphql-ws does so by itself).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import BaseGraphQLTransportWSHandler


class KeepAliveTransportWSHandler(BaseGraphQLTransportWSHandler[Any, Any]):
    """``graphql-transport-ws`` with server pings, while the view's ``keep_alive`` is on."""

    _pinger: asyncio.Task[None] | None = None

    async def handle_connection_init(self, message: Any) -> None:
        await super().handle_connection_init(message)
        if self.connection_acknowledged and self._pinger is None and getattr(self.view, "keep_alive", False):
            self._pinger = asyncio.create_task(self._ping_regularly(), name="graphql-transport-ws-ping")

    async def shutdown(self) -> None:
        if self._pinger is not None:
            self._pinger.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pinger
        await super().shutdown()

    async def _ping_regularly(self) -> None:
        interval = float(getattr(self.view, "keep_alive_interval", None) or 15)
        while True:
            await asyncio.sleep(interval)
            try:
                await self.send_message({"type": "ping"})
            except Exception:  # the socket is gone; the handler's shutdown follows
                return
