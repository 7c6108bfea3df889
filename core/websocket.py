"""graphql-transport-ws at ``/graphql``: text frames, persisted operations, server pings, and the session
checked again before every operation (a socket answers only while its session grants access).

A subscription's events do not go through its operation: the process's fan-out (``subscriptions.audiences``)
writes each audience's encoded answer to the socket with ``TextFrameWebSocketAdapter.push``, which never waits.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import time
from collections.abc import AsyncGenerator, Coroutine, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from weakref import WeakKeyDictionary

import orjson
from starlette.websockets import WebSocketDisconnect, WebSocketState
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.dataloader import DataLoader
from strawberry.http.exceptions import NonJsonMessageReceived, NonTextMessageReceived, WebSocketDisconnected
from websockets.frames import Frame, Opcode
from websockets.protocol import State

from core.accesslog import SOCKET_OPERATIONS, log_socket_operation
from core.auth import Viewer, current_viewers
from core.context import OPERATION_LOADERS
from core.database import Database, database_unavailable
from core.errors import SERVICE_UNAVAILABLE_MESSAGE, TopLevelCode
from core.keepalive import KeepAliveTransportWSHandler
from core.persisted import PersistedDocuments, PersistedQueryError
from core.sockets import CLOSE_SESSION_ENDED

if TYPE_CHECKING:
    pass  # the app's composition (app.py) hands it in

CLOSE_MESSAGE_TOO_BIG = 1009  # RFC 6455


@dataclass(frozen=True, slots=True)
class Subscribing:
    """The subscribe message an operation's task runs for (read by ``subscriptions.live``)."""

    operation_id: str
    key: tuple[str, str | None, str]  # document text, operation name, variables as sorted JSON
    variables: dict[str, Any] | None


SUBSCRIBING: ContextVar[Subscribing | None] = ContextVar("portico_subscribing", default=None)


#: frames a socket may have waiting for its transport before it counts as a slow consumer (as many as the broker
#: keeps for a subscriber that falls behind)
MAX_PENDING_FRAMES = 256


class _Backlog:
    """Frames pushed while the socket's transport could not take them: each send that cannot complete at once is
    resumed by the loop when what it waits for is done (as a task would, without a task for every frame that
    completes at once), then the next waiting frame goes."""

    __slots__ = ("adapter", "coro", "frames")

    def __init__(self, adapter: TextFrameWebSocketAdapter) -> None:
        self.adapter = adapter
        self.frames: collections.deque[str] = collections.deque()
        self.coro: Coroutine[Any, Any, None] | None = None

    def start(self, coro: Coroutine[Any, Any, None], awaited: Any) -> None:
        self.coro = coro
        if awaited is None:  # a bare yield (asyncio.sleep(0)): try again on the next round of the loop
            asyncio.get_running_loop().call_soon(self.resume)
            return
        awaited._asyncio_future_blocking = False
        awaited.add_done_callback(self.resume)

    def resume(self, _done: object = None) -> None:
        assert self.coro is not None
        try:
            awaited = self.coro.send(None)
        except StopIteration:
            pass
        except BaseException:  # noqa: BLE001 - the socket is gone: nothing waits any more
            self.frames.clear()
        else:
            self.start(self.coro, awaited)
            return
        self.coro = None
        self.adapter.backlog = None
        while self.frames and self.adapter.push(self.frames.popleft()) and self.adapter.backlog is None:
            pass
        if self.frames and self.adapter.backlog is not None:
            self.adapter.backlog.frames.extend(self.frames)


class Outgoing:
    """A text message for many sockets: its frame is serialized once, the first time a socket writes it directly."""

    __slots__ = ("_frame", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self._frame: bytes | None = None

    def frame(self) -> bytes:
        if self._frame is None:
            self._frame = Frame(Opcode.TEXT, self.text.encode()).serialize(mask=False)
        return self._frame


def _direct_writer(ws: Any) -> Any | None:
    """uvicorn's websockets-sansio protocol of this socket, when the app is served by it without extensions (no
    per-message deflate): its ``receive`` is the ASGI receive the route got (no middleware wraps a websocket's
    receive). None otherwise: every frame then goes through the ASGI send."""
    protocol = getattr(getattr(ws, "_receive", None), "__self__", None)
    conn = getattr(protocol, "conn", None)
    if conn is None or getattr(conn, "extensions", None) or not hasattr(protocol, "transport"):
        return None
    if not all(hasattr(protocol, name) for name in ("writable", "close_sent", "disconnected", "handshake_complete")):
        return None
    return protocol


class TextFrameWebSocketAdapter(ASGIWebSocketAdapter):
    """graphql-transport-ws messages go in text frames: browsers' graphql-ws client cannot parse binary ones
    (Strawberry sends bytes as binary frames, and our ``encode_json`` returns orjson's bytes).

    Once the server has decided to close the socket (``closing``), whatever an operation still sends is dropped
    quietly rather than raising in its task; a message larger than ``MAX_WS_MESSAGE_BYTES`` closes the socket
    with 1009 before it is parsed.
    """

    closing = False
    backlog: _Backlog | None = None  # pushed frames waiting for the transport
    _direct: Any = False  # uvicorn's protocol once looked up (None: not served by it)

    def push(self, message: str | Outgoing) -> bool | None:
        """Write a text frame now, never waiting: True once written or queued behind a frame the transport could
        not take yet, False when ``MAX_PENDING_FRAMES`` already wait (its writes back up: a slow consumer), None
        when the socket is closing or gone.

        An ``Outgoing`` (the same message for many sockets) goes straight to the transport as the frame it
        serialized once, while the socket is open and its transport takes writes; otherwise, and for a ``str``,
        through the ASGI send."""
        if self.closing or self.ws.application_state == WebSocketState.DISCONNECTED:
            return None
        if self.backlog is None and isinstance(message, Outgoing) and self._write_directly(message):
            return True
        text = message.text if isinstance(message, Outgoing) else message
        if self.backlog is not None:
            if len(self.backlog.frames) >= MAX_PENDING_FRAMES:
                return False
            self.backlog.frames.append(text)
            return True
        coro = self.ws.send({"type": "websocket.send", "text": text})
        try:
            awaited = coro.send(None)
        except StopIteration:
            return True
        except Exception:  # noqa: BLE001 - the client went away (the close frame already went out)
            return None
        self.backlog = _Backlog(self)
        self.backlog.start(coro, awaited)
        return True

    def _write_directly(self, message: Outgoing) -> bool:
        """Write the frame to uvicorn's transport (what its ASGI send would write, without the middleware chain and
        a frame serialized per socket); False when it cannot now (closing, paused, not served by uvicorn)."""
        protocol = self._direct
        if protocol is False:
            protocol = self._direct = _direct_writer(self.ws)
        if protocol is None or protocol.close_sent or protocol.disconnected or not protocol.handshake_complete:
            return False
        if not protocol.writable.is_set() or protocol.conn.state is not State.OPEN or protocol.transport.is_closing():
            return False
        protocol.transport.write(message.frame())
        return True

    async def iter_json(self, *, ignore_parsing_errors: bool = False) -> AsyncGenerator[object, None]:
        try:
            while self.ws.application_state != WebSocketState.DISCONNECTED and not self.closing:
                text = await self.ws.receive_text()
                limit = self.view.settings.max_ws_message_bytes
                if limit and len(text) > limit // 4 and len(text.encode()) > limit:
                    await self.close(CLOSE_MESSAGE_TOO_BIG, "Message too big")
                    return
                try:
                    yield self.view.decode_json(text)
                except orjson.JSONDecodeError as error:
                    if not ignore_parsing_errors:
                        raise NonJsonMessageReceived from error
        except KeyError as error:
            raise NonTextMessageReceived from error
        except WebSocketDisconnect:
            pass

    async def send_json(self, message: Mapping[str, object]) -> None:
        if self.closing or self.ws.application_state == WebSocketState.DISCONNECTED:
            return
        encoded = self.view.encode_json(message)
        try:
            await self.ws.send_text(encoded.decode() if isinstance(encoded, bytes) else encoded)
        except (WebSocketDisconnect, RuntimeError) as exc:  # RuntimeError: the close frame already went out
            raise WebSocketDisconnected from exc

    async def close(self, code: int, reason: str) -> None:
        if self.ws.application_state == WebSocketState.DISCONNECTED:
            return
        self.closing = True
        with contextlib.suppress(RuntimeError, WebSocketDisconnect):
            await self.ws.close(code=code, reason=reason)


class PersistedOperationsWSHandler(KeepAliveTransportWSHandler):
    """graphql-transport-ws with persisted operations (a subscribe message may name its document), server pings,
    and the session checked again before every operation: a socket answers only while its session grants access.
    """

    websocket: TextFrameWebSocketAdapter

    async def handle_connection_init(self, message: Any) -> None:
        await super().handle_connection_init(message)
        viewer = getattr(self.context, "viewer", None)
        if self.connection_acknowledged and viewer is not None:
            self.context.socket = self
            # held by session, so that the end of the session (logout, revocation, expiry, access or portal
            # disabled) closes this socket at once, on whichever process the change happened
            self.view.runtime.connections.add(self, viewer)

    async def shutdown(self) -> None:
        self.view.runtime.connections.discard(self)
        await super().shutdown()

    async def close_socket(self, code: int, reason: str) -> None:
        """Stop every operation of this socket, then close it (an operation may call this for its own socket)."""
        self.view.runtime.connections.discard(self)
        self.websocket.closing = True
        current = asyncio.current_task()
        for operation_id, operation in list(self.operations.items()):
            if operation.task is not current:
                await self.cleanup_operation(operation_id)
        await self.websocket.close(code=code, reason=reason)

    async def handle_task_exception(self, error: Exception) -> None:
        if isinstance(error, WebSocketDisconnected):  # the client went away mid-operation: nothing to report
            return
        await super().handle_task_exception(error)

    async def handle_subscribe(self, message: Any) -> None:
        payload = message.get("payload")
        if not self.connection_acknowledged or not isinstance(payload, dict):
            await super().handle_subscribe(message)
            return
        context = self.context
        try:
            viewer = await self._current_viewer()
            if viewer is None:
                await self.close_socket(CLOSE_SESSION_ENDED, "Session ended")
                return
            persisted: PersistedDocuments = self.view.persisted
            resolved = await persisted.resolve(
                self.view.runtime.db,
                query=payload.get("query"),
                extensions=payload.get("extensions"),
                document_id=payload.get("documentId") or payload.get("id"),
            )
        except PersistedQueryError as error:
            await self._send_error(message, error.code, error.message)
            return
        except Exception as error:
            if not database_unavailable(error):
                raise
            await self._send_error(message, TopLevelCode.SERVICE_UNAVAILABLE, SERVICE_UNAVAILABLE_MESSAGE)
            return
        if resolved is not None:
            message = {**message, "payload": {**payload, "query": resolved.query}}
        # each operation on a long-lived socket gets loaders of its own (the operation's task copies this context),
        # so a query sent over the socket never answers from what an earlier operation loaded
        fresh = self.view.runtime.make_loaders(context.db, viewer.scope())
        token = OPERATION_LOADERS.set(fresh)
        subscribing = SUBSCRIBING.set(_subscribing(message))
        try:
            await super().handle_subscribe(message)
        finally:
            SUBSCRIBING.reset(subscribing)
            OPERATION_LOADERS.reset(token)

    async def run_operation(self, operation: Any) -> None:
        """Strawberry's, with the operation's access-log line once it ends (its task's own list of notes)."""
        notes: list[dict[str, Any]] = []
        SOCKET_OPERATIONS.set(notes)  # (this task's context only: the operation's task copied it)
        started = time.perf_counter()
        outcome = "complete"
        try:
            await super().run_operation(operation)
        except asyncio.CancelledError:
            outcome = "cancelled"  # the client completed it, or the socket closed
            raise
        except Exception:
            outcome = "failed"
            raise
        finally:
            path = self.websocket.ws.scope.get("path")
            log_socket_operation(notes, operation.operation_name, time.perf_counter() - started, outcome, path)

    async def _current_viewer(self) -> Viewer | None:
        """The socket's viewer as of now (the session re-read); None when it no longer grants access."""
        viewer = self.context.viewer
        if viewer is None:
            return None
        current = await _session_checks(self.context.db).load(viewer.session_id)
        if current is not None:
            self.context.viewer = current  # e.g. projects hidden since the socket connected
        return current

    async def _send_error(self, message: Any, code: str, text: str) -> None:
        error_payload = [{"message": text, "extensions": {"code": str(code)}}]
        await self.send_message({"id": message.get("id"), "type": "error", "payload": error_payload})


_CHECKS: WeakKeyDictionary[Database, tuple[asyncio.AbstractEventLoop, DataLoader[int, Viewer | None]]]
_CHECKS = WeakKeyDictionary()


def _session_checks(db: Database) -> DataLoader[int, Viewer | None]:
    """Re-reads of sessions, batched per moment and never cached: the subscribes that arrive together (a reconnect
    storm, a page opening several subscriptions) each read their session after their own message, in one query."""
    loop = asyncio.get_running_loop()
    found = _CHECKS.get(db)
    if found is None or found[0] is not loop:

        async def read(session_ids: list[int]) -> list[Viewer | None]:
            return await current_viewers(db, session_ids)

        found = _CHECKS[db] = (loop, DataLoader(load_fn=read, cache=False, loop=loop))
    return found[1]


def _subscribing(message: Any) -> Subscribing | None:
    payload = message["payload"]
    query, variables = payload.get("query"), payload.get("variables")
    if not isinstance(query, str):
        return None
    try:
        encoded = orjson.dumps(variables or {}, option=orjson.OPT_SORT_KEYS).decode()
    except TypeError:
        return None  # not JSON as sent: the operation fails its own way
    name = payload.get("operationName")
    key = (query, name if isinstance(name, str) else None, encoded)
    return Subscribing(str(message.get("id")), key, variables)
