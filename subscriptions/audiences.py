"""The process's subscription fan-out: one listener per organization channel, one answer per audience.

Every websocket subscription of a process is a ``Feed`` here. For each event of a channel the fan-out
1. keeps the feeds listening to the event's type (a portal feed only for its own contact's events),
2. re-reads all their sessions in one query (an ended session closes its socket with 4403 and gets nothing),
3. groups them by audience: the same scope and role, the same field, document text, operation name and
   variables. Subscribers of one audience would compute the very same answer, so it is built, executed and
   encoded once (the payload itself once per scope, ``ScopedEvent.payload_for``), and each socket of the audience
   gets that text with its own operation id spliced in: ``{"id":…,"type":"next","payload":…}``.
A socket whose writes back up (it stopped reading) is not written to any more: it is closed with 1013 and its
feeds leave, so memory stays bounded; a socket that went away skips its frame without delaying the others.
A channel whose events arrive faster than the fan-out delivers them overflows the broker's bounded queue: its
sockets close with 1013 (the client reconnects and refetches).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson
from graphql import DocumentNode, GraphQLError, GraphQLSchema
from graphql.execution.executor import Executor
from strawberry.utils.await_maybe import await_maybe

from core.auth import Viewer, current_viewers
from core.context import EVENT_LOADERS
from core.database import Database
from core.execution import FastLeafExecutor
from core.metrics import EVENTS_DELIVERED, EVENTS_DROPPED, SUBSCRIPTIONS
from core.sockets import CLOSE_SESSION_ENDED
from core.websocket import Outgoing
from resolvers.loaders import Loaders
from subscriptions.backends import SharedEvent, SlowConsumer
from subscriptions.events import organization_channel
from subscriptions.streams import CLOSE_SLOW_CONSUMER, ScopedEvent

if TYPE_CHECKING:
    from core.context import Context
    from subscriptions.broker import Broker
    from subscriptions.live import Live

log = logging.getLogger(__name__)


@dataclass(eq=False, slots=True)
class Feed:
    """One subscription operation on one socket, as the fan-out sees it."""

    spec: Live[Any]
    context: Context
    socket: Any  # core.websocket.PersistedOperationsWSHandler: ``websocket.push``, ``close_socket``
    operation_id: str
    request: Hashable  # (document text, operation name, variables): with scope and role, the audience
    schema: GraphQLSchema
    operation: Any
    fragments: tuple[Any, ...]
    variables: dict[str, Any] | None
    session_id: int
    contact_id: int | None  # a portal subscriber's contact: other contacts' events are not even looked at
    head: str = ""
    channel: str | None = None  # once joined
    last: str | None = None  # the last answer pushed (``distinct`` fields)
    ended: asyncio.Future[None] = field(default_factory=lambda: asyncio.get_running_loop().create_future())

    def __post_init__(self) -> None:
        self.head = '{"id":' + orjson.dumps(self.operation_id).decode() + ',"type":"next","payload":'


@dataclass(eq=False)
class _Channel:
    ready: asyncio.Future[None]
    feeds: dict[Feed, None] = field(default_factory=dict)  # an ordered set
    task: asyncio.Task[None] | None = None


class Audiences:
    """The fan-out of one process (one per ``Broker``)."""

    def __init__(self, broker: Broker, db: Database) -> None:
        self.broker = broker
        self.db = db
        self._channels: dict[str, _Channel] = {}
        self.dropped_slow = 0

    def listening(self, channel: str) -> int:
        """Feeds of ``channel`` whose events are delivered from now on."""
        entry = self._channels.get(channel)
        return len(entry.feeds) if entry is not None and entry.ready.done() else 0

    def listens(self, channel: str) -> bool:
        return channel in self._channels

    async def join(self, feed: Feed, organization_id: int) -> None:
        """Deliver the events of the organization's channel to ``feed`` from the moment this returns."""
        channel = organization_channel(organization_id)
        while True:
            entry = self._channels.get(channel)
            if entry is None:
                entry = self._channels[channel] = _Channel(asyncio.get_running_loop().create_future())
                entry.task = asyncio.create_task(self._listen(channel, entry), name=f"fan-out {channel}")
            entry.feeds[feed] = None
            try:
                await asyncio.shield(entry.ready)
            except BaseException:
                entry.feeds.pop(feed, None)
                raise
            if self._channels.get(channel) is entry:
                feed.channel = channel
                SUBSCRIPTIONS.labels(feed.spec.field).inc()
                return
            entry.feeds.pop(feed, None)  # the listener ended meanwhile: join the next one

    def leave(self, feed: Feed) -> None:
        channel, feed.channel = feed.channel, None
        if channel is None:
            return
        SUBSCRIPTIONS.labels(feed.spec.field).dec()
        entry = self._channels.get(channel)
        if entry is None:
            return
        entry.feeds.pop(feed, None)
        if not entry.feeds and entry.task is not None:
            del self._channels[channel]  # type: ignore[index]
            entry.task.cancel()

    async def _listen(self, channel: str, entry: _Channel) -> None:
        try:
            async with self.broker.listen(channel) as deliveries:
                entry.ready.set_result(None)
                async for delivery in deliveries:
                    try:
                        await self._deliver(entry, delivery)
                    except Exception:  # one event's failure must not stop the next ones
                        log.exception("fan-out of an event on %s failed", channel)
        except SlowConsumer as error:
            log.warning("the fan-out of %s fell behind (%s): closing its sockets", channel, error)
            self._close(list(entry.feeds), CLOSE_SLOW_CONSUMER, "Slow consumer: events were dropped")
        except Exception as error:
            if not entry.ready.done():
                entry.ready.set_exception(error)
                entry.ready.exception()  # retrieved: joiners see it, nobody else has to
            else:
                log.exception("the fan-out listener of %s failed", channel)
        finally:
            if self._channels.get(channel) is entry:
                del self._channels[channel]
            if not entry.ready.done():
                entry.ready.set_exception(RuntimeError("the fan-out listener stopped"))
                entry.ready.exception()
            for feed in entry.feeds:
                if not feed.ended.done():
                    feed.ended.set_result(None)

    async def _deliver(self, entry: _Channel, delivery: SharedEvent) -> None:
        payload = delivery.payload
        kind, contact = payload.get("type"), payload.get("contact_id")
        feeds = [
            feed
            for feed in entry.feeds
            if kind in feed.spec.types and (feed.contact_id is None or feed.contact_id == contact)
        ]
        if not feeds:
            return
        session_ids = list(dict.fromkeys(feed.session_id for feed in feeds))
        viewers = dict(zip(session_ids, await current_viewers(self.db, session_ids), strict=True))
        audiences: dict[Hashable, list[Feed]] = {}
        ended: list[Feed] = []
        for feed in feeds:
            viewer = viewers[feed.session_id]
            if viewer is None:
                ended.append(feed)
                continue
            feed.context.viewer = viewer
            key = (viewer.scope(), getattr(viewer, "role", None), feed.spec.field, feed.request)
            audiences.setdefault(key, []).append(feed)
        self._close(ended, CLOSE_SESSION_ENDED, "Session ended")
        if len(audiences) == 1:
            (members,) = audiences.values()
            await self._answer(delivery, members)
        elif audiences:
            await asyncio.gather(*(self._answer(delivery, members) for members in audiences.values()))

    async def _answer(self, delivery: SharedEvent, members: list[Feed]) -> None:
        """Build, execute and encode the answer of one audience once; write it to each of its sockets."""
        first = members[0]
        viewer: Viewer = first.context.viewer  # type: ignore[assignment]
        scope = viewer.scope()
        loaders = delivery.memo(("loaders", scope), lambda: Loaders(self.db, scope))
        EVENT_LOADERS.set(loaders)  # this task's context: the selection set's resolvers read these loaders
        event = ScopedEvent(delivery.payload, viewer, scope, loaders, delivery)
        spec = first.spec
        value = await event.memo(("payload", spec.field), lambda: spec.build(event))
        if value is None or (spec.accept is not None and not await spec.accept(event)):
            return
        body = await self._execute(first, value)
        if body is None:
            return
        slow: list[Feed] = []
        frames: dict[str, Outgoing] = {}  # by operation id (its head): one frame for every socket that shares it
        delivered = 0
        for feed in members:
            if feed.spec.distinct:
                if feed.last == body:
                    continue
                feed.last = body
            frame = frames.get(feed.head)
            if frame is None:
                frame = frames[feed.head] = Outgoing(feed.head + body + "}")
            try:
                pushed = feed.socket.websocket.push(frame)
            except Exception:  # a socket that broke mid-fan-out: the others still get the event
                log.warning("a socket failed while the fan-out wrote to it", exc_info=True)
                continue
            if pushed is False:
                slow.append(feed)
            elif pushed:
                delivered += 1
        EVENTS_DELIVERED.inc(delivered)
        if slow:
            self.dropped_slow += len(slow)
            EVENTS_DROPPED.labels("socket").inc(len(slow))
            log.warning("closing %d socket(s) whose writes backed up", len(slow))
            self._close(slow, CLOSE_SLOW_CONSUMER, "Slow consumer: the socket stopped reading")

    async def _execute(self, feed: Feed, value: Any) -> str | None:
        """The selection set of ``feed``'s operation over ``value``, encoded as its ``payload`` (JSON text)."""
        document = DocumentNode(definitions=(feed.operation, *feed.fragments))
        executor = FastLeafExecutor.build(
            feed.schema,
            document,
            value,
            feed.context,
            feed.variables,
            feed.operation.name and feed.operation.name.value,
        )
        if not isinstance(executor, Executor):  # variables that no longer coerce: nothing sensible to send
            log.warning("subscription variables no longer valid: %s", executor)
            return None
        result = await await_maybe(executor.execute_operation())
        answer: dict[str, Any] = {"data": result.data}
        if result.errors:
            answer["errors"] = [_masked(error, feed.context).formatted for error in result.errors]
        return orjson.dumps(answer).decode()

    def _close(self, feeds: list[Feed], code: int, reason: str) -> None:
        """Close the sockets of ``feeds`` (each once), in the background: the fan-out goes on meanwhile."""
        for socket in dict.fromkeys(feed.socket for feed in feeds):
            task = asyncio.create_task(_close_socket(socket, code, reason))
            _closing.add(task)
            task.add_done_callback(_closing.discard)
        for feed in feeds:
            self.leave(feed)
            if not feed.ended.done():
                feed.ended.set_result(None)


_closing: set[asyncio.Task[None]] = set()  # close tasks in flight (held: the loop keeps only weak references)


async def _close_socket(socket: Any, code: int, reason: str) -> None:
    with contextlib.suppress(Exception):  # already closed is fine
        await socket.close_socket(code, reason)


def _masked(error: GraphQLError, context: Context) -> GraphQLError:
    """The error as the schema's masking extension would show it (internal errors opaque, with the request id)."""
    from types import SimpleNamespace

    from schema.schema import MaskInternalErrors

    masking = MaskInternalErrors(hide_suggestions=not context.settings.field_suggestions_enabled)
    masking.execution_context = SimpleNamespace(context=context)  # type: ignore[assignment]
    return masking._mask(error)


def audiences_of(broker: Broker, db: Database) -> Audiences:
    """The fan-out of the process's broker (made on first use)."""
    hub: Audiences | None = getattr(broker, "audiences", None)
    if hub is None:
        hub = broker.audiences = Audiences(broker, db)
    return hub
