"""What a subscription field streams: a ``Live`` spec, handed to the process's fan-out (``subscriptions.audiences``).

A field checks its viewer and arguments, then returns ``live(info, spec)``. Over a websocket that is a feed of the
process's ``Audiences``: no task, queue or generator of its own per event; the fan-out re-reads the sessions,
executes the selection once per audience and writes the encoded frame to each socket. Anywhere else (a
subscription run without a graphql-transport-ws socket) it is a plain stream of payloads read through the same
``ScopedEvent`` machinery, one per subscriber.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import strawberry

from core.auth import PortalViewer
from core.context import Context
from core.websocket import SUBSCRIBING
from subscriptions.audiences import Feed, audiences_of
from subscriptions.streams import ScopedEvent, scoped_events

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Live(Generic[T]):
    """A subscription field's stream.

    ``build`` makes the field's payload for one event and scope (``None``: the subscriber may not see the event);
    it is shared by every subscriber with that scope. ``accept`` (optional) filters an event by the field's
    arguments, once per audience. ``distinct``: push an answer only when it differs from the subscriber's last.
    """

    field: str
    types: frozenset[str]
    build: Callable[[ScopedEvent], Awaitable[T | None]]
    accept: Callable[[ScopedEvent], Awaitable[bool]] | None = None
    distinct: bool = False


def live(info: strawberry.Info, spec: Live[T]) -> AsyncIterator[T]:
    """The stream a subscription field returns for ``spec``."""
    ctx: Context = info.context
    subscribing = SUBSCRIBING.get()
    if ctx.socket is None or subscribing is None:
        return _payloads(ctx, spec)
    viewer = ctx.require_viewer()
    raw = info._raw_info
    feed = Feed(
        spec=spec,
        context=ctx,
        socket=ctx.socket,
        operation_id=subscribing.operation_id,
        request=subscribing.key,
        schema=raw.schema,
        operation=raw.operation,
        fragments=tuple(raw.fragments.values()),
        variables=subscribing.variables,
        session_id=viewer.session_id,
        contact_id=viewer.contact_id if isinstance(viewer, PortalViewer) else None,
    )
    return _FeedStream(feed, viewer.organization_id)


class _FeedStream:
    """The operation's stream while the fan-out delivers its events: it yields nothing and ends when cancelled
    (``complete``, the socket closing) or when the fan-out lets go of the feed."""

    __slots__ = ("_feed", "_organization_id")

    def __init__(self, feed: Feed, organization_id: int) -> None:
        self._feed = feed
        self._organization_id = organization_id

    def __aiter__(self) -> _FeedStream:
        return self

    async def __anext__(self) -> Any:
        feed = self._feed
        hub = audiences_of(feed.context.broker, feed.context.db)
        try:
            await hub.join(feed, self._organization_id)
            await feed.ended
        finally:
            hub.leave(feed)
        raise StopAsyncIteration

    async def aclose(self) -> None:
        audiences_of(self._feed.context.broker, self._feed.context.db).leave(self._feed)


async def _payloads(ctx: Context, spec: Live[T]) -> AsyncIterator[T]:
    """The same stream for one subscriber, without the fan-out (no graphql-transport-ws socket)."""
    last: T | None = None
    async for event in scoped_events(ctx, spec.types):

        async def built(event: ScopedEvent = event) -> T | None:
            return await spec.build(event)

        payload = await event.payload_for(spec.field, built)
        if payload is None or (spec.accept is not None and not await spec.accept(event)):
            continue
        if spec.distinct:
            if payload == last:
                continue
            last = payload
        yield payload
