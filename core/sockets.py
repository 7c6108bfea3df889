"""The websockets of this process by session, closed as soon as their session stops granting access.

A session ends by logout, revocation, a password change or reset, its absolute expiry, the person's access
being disabled, the staff user deactivated or the organization's portal turned off. Every change of that kind
publishes on ``core.auth.SESSIONS_CHANGED`` after its commit (session ids, or an organization), so each app
process re-checks the sockets it holds against the database (``core.auth.current_viewers``) and closes those
whose session no longer grants access with 4403. Expiry needs no event: each socket closes at its session's
``expires_at``. A periodic re-check of every held session is the backstop for a change whose event was lost
(a broadcast backend down at that moment, a row changed by hand).
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
import time
from collections.abc import AsyncIterator, Iterable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from core.auth import SESSIONS_CHANGED, Viewer, current_viewers
from core.database import Database
from core.metrics import OPEN_SOCKETS

log = logging.getLogger(__name__)

CLOSE_SESSION_ENDED = 4403
CLOSE_SESSION_REVOKED = CLOSE_SESSION_ENDED  # the name earlier code used
EXPIRY_CHECK_SECONDS = 0.5


class Channels(Protocol):
    """What the registry listens on (``subscriptions.broker.Broker``): the events published on a channel."""

    def subscribe(self, channel: str) -> AbstractAsyncContextManager[AsyncIterator[dict[str, Any]]]: ...


class ClosableSocket(Protocol):
    """A websocket handler that closes cleanly: its operations stop before the close frame goes out."""

    async def close_socket(self, code: int, reason: str) -> None: ...


@dataclass(eq=False, slots=True)
class Held:
    socket: ClosableSocket
    session_id: int
    organization_id: int
    expires_at: datetime | None


class ConnectionRegistry:
    """Which websockets belong to which session and organization, in this process."""

    def __init__(self, *, recheck_seconds: float = 30.0) -> None:
        self._by_socket: dict[int, Held] = {}
        # (expires_at, n, held) by expiry: the sweep looks only at sockets that are due, not at every socket twice a
        # second; an entry whose socket left (or was added again) is skipped when it comes up
        self._expiries: list[tuple[datetime, int, Held]] = []
        self._order = itertools.count()
        self.recheck_seconds = recheck_seconds
        self._tasks: list[asyncio.Task[None]] = []
        self._db: Database | None = None

    def __len__(self) -> int:
        return len(self._by_socket)

    def add(self, socket: ClosableSocket, viewer: Viewer) -> None:
        held = Held(socket, viewer.session_id, viewer.organization_id, viewer.expires_at)
        if id(socket) not in self._by_socket:
            OPEN_SOCKETS.inc()
        self._by_socket[id(socket)] = held
        if held.expires_at is not None:
            heapq.heappush(self._expiries, (held.expires_at, next(self._order), held))

    def discard(self, socket: ClosableSocket) -> None:
        if self._by_socket.pop(id(socket), None) is not None:
            OPEN_SOCKETS.dec()

    def held(self) -> list[Held]:
        return list(self._by_socket.values())

    async def close(self, held: Iterable[Held], reason: str = "Session ended") -> int:
        """Close these sockets with 4403 (each once)."""
        closed = 0
        for entry in list(held):
            if self._by_socket.pop(id(entry.socket), None) is None:
                continue
            OPEN_SOCKETS.dec()
            with contextlib.suppress(Exception):  # already gone is fine
                await entry.socket.close_socket(CLOSE_SESSION_ENDED, reason)
            closed += 1
        return closed

    async def recheck(self, *, session_ids: Iterable[int] = (), organization_id: int | None = None) -> int:
        """Re-read the sessions of the matching sockets (all when nothing is named); close those that ended."""
        wanted = set(session_ids)
        entries = [
            held
            for held in self._by_socket.values()
            if (not wanted and organization_id is None)
            or held.session_id in wanted
            or held.organization_id == organization_id
        ]
        if not entries or self._db is None:
            return 0
        ids = sorted({held.session_id for held in entries})
        current = dict(zip(ids, await current_viewers(self._db, ids), strict=True))
        return await self.close(held for held in entries if current[held.session_id] is None)

    async def close_expired(self) -> int:
        now = datetime.now(UTC)
        due = []
        while self._expiries and self._expiries[0][0] <= now:
            held = heapq.heappop(self._expiries)[2]
            if self._by_socket.get(id(held.socket)) is held:
                due.append(held)
        if len(self._expiries) > 2 * len(self._by_socket) + 1024:  # mostly sockets that left: rebuild
            self._expiries = [entry for entry in self._expiries if self._by_socket.get(id(entry[2].socket)) is entry[2]]
            heapq.heapify(self._expiries)
        return await self.close(due, reason="Session expired")

    # kept for callers that name sessions directly
    async def close_sessions(self, session_ids: list[int]) -> int:
        return await self.recheck(session_ids=session_ids)

    def start(self, broker: Channels, db: Database) -> None:
        self._db = db
        self._tasks = [
            asyncio.create_task(self._listen(broker), name="session-changes"),
            asyncio.create_task(self._sweep(), name="session-expiry"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    async def _listen(self, broker: Channels) -> None:
        while True:
            try:
                async with broker.subscribe(SESSIONS_CHANGED) as events:
                    async for event in events:
                        await self._apply(event)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("session change listener failed; resubscribing")
                await asyncio.sleep(1)

    async def _apply(self, event: dict[str, Any]) -> None:
        session_ids = [int(i) for i in event.get("sessionIds") or []]
        organization = event.get("organizationId")
        await self.recheck(session_ids=session_ids, organization_id=int(organization) if organization else None)

    async def _sweep(self) -> None:
        last_recheck = time.monotonic()
        while True:
            await asyncio.sleep(EXPIRY_CHECK_SECONDS)
            try:
                await self.close_expired()
                if time.monotonic() - last_recheck >= self.recheck_seconds:
                    last_recheck = time.monotonic()
                    if self._by_socket:
                        await self.recheck()
            except asyncio.CancelledError:
                raise
            except Exception:  # the database may be down for a moment; the next round tries again
                log.warning("re-checking open sockets failed", exc_info=True)
