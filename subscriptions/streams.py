"""Authorization per event: the stream every subscription field reads from.

Events carry ids only. For each event a subscriber may be interested in, ``scoped_events``
1. listens on the channel of the subscriber's own organization (never one named by the client),
2. re-reads the subscriber's session (revoked, expired, disabled: the socket closes with 4403),
3. hands out DataLoaders built for this event and the subscriber's current scope, and makes them the ones
   ``Context.loaders`` returns while the event's selection set executes.
The field then reads the event's rows through those loaders and yields nothing when they come back empty, so
a subscriber never receives what it could not query. Subscribers of one process with an equal scope share one
set of loaders and one payload per event (each row is read once per scope, not once per socket), and those
with the same role too one execution of each distinct selection (``subscriptions.sharing``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from core.auth import PortalViewer, Viewer
from core.context import EVENT_LOADERS, Context
from core.scope import Scope
from core.sockets import CLOSE_SESSION_ENDED
from resolvers.loaders import Loaders
from subscriptions.backends import SharedEvent, SlowConsumer
from subscriptions.events import organization_channel
from subscriptions.sharing import share
from subscriptions.viewers import viewer_loader

log = logging.getLogger(__name__)

T = TypeVar("T")

#: RFC 6455 "Try Again Later": the subscriber fell too far behind and its events were dropped. The graphql-ws
#: client reconnects and resubscribes on this code; a UI should refetch what it shows.
CLOSE_SLOW_CONSUMER = 1013


@dataclass(frozen=True, slots=True)
class ScopedEvent:
    """One event as one subscriber sees it: the payload (ids), the subscriber now, loaders for this event."""

    payload: dict[str, Any]
    viewer: Viewer
    scope: Scope
    loaders: Loaders
    shared: SharedEvent

    def memo(self, key: Any, read: Callable[[], Awaitable[T]]) -> Awaitable[T]:
        """``read()`` once per event and scope, shared by the subscribers with this scope (``key`` names it)."""
        return self.shared.memo(("read", self.scope, key), lambda: _once(read))

    async def payload_for(self, field: str, build: Callable[[], Awaitable[T | None]]) -> T | None:
        """The payload ``field`` yields for this event: built once per scope, and its execution shared by the
        subscribers with the same scope and role (``subscriptions.sharing``). None: nothing to deliver."""
        payload = await self.memo(("payload", field), build)
        if payload is not None:
            audience = (self.scope, getattr(self.viewer, "role", None))
            share(payload, self.shared.memo("results", dict), audience)
        return payload


def _once(read: Callable[[], Awaitable[T]]) -> Awaitable[T]:
    return asyncio.ensure_future(read())


async def scoped_events(ctx: Context, types: frozenset[str]) -> AsyncIterator[ScopedEvent]:
    """The events of ``types`` for the websocket's viewer, each with loaders fresh for that event."""
    viewer = ctx.require_viewer()
    portal_contact = viewer.contact_id if isinstance(viewer, PortalViewer) else None
    channel = organization_channel(viewer.organization_id)
    try:
        async with ctx.broker.listen(channel) as deliveries:
            async for delivery in deliveries:
                payload = delivery.payload
                if payload.get("type") not in types:
                    continue
                if portal_contact is not None and payload.get("contact_id") != portal_contact:
                    continue  # another contact's event: the re-read below would find nothing anyway
                current = await delivery.memo("viewers", lambda: viewer_loader(ctx.db)).load(viewer.session_id)
                if current is None:
                    await close_socket(ctx, CLOSE_SESSION_ENDED, "Session ended")
                    return
                scope = current.scope()
                loaders = delivery.memo(("loaders", scope), lambda: Loaders(ctx.db, scope))  # noqa: B023
                EVENT_LOADERS.set(loaders)
                yield ScopedEvent(payload, current, scope, loaders, delivery)
    except SlowConsumer as error:
        log.warning("closing a slow subscriber's socket: %s", error)
        await close_socket(ctx, CLOSE_SLOW_CONSUMER, "Slow consumer: events were dropped")


async def close_socket(ctx: Context, code: int, reason: str) -> None:
    """Close the subscriber's socket through its handler, which stops the socket's other operations first."""
    with contextlib.suppress(Exception):  # already closed is fine
        if ctx.socket is not None:
            await ctx.socket.close_socket(code, reason)
        else:
            await ctx.request.close(code=code, reason=reason)
