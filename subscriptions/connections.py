"""Open websockets per session, so a revoked session's sockets close at once on every process."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from typing import Any

from subscriptions.broker import Broker

log = logging.getLogger(__name__)

SESSIONS_REVOKED = "portico.sessions.revoked"
CLOSE_SESSION_REVOKED = 4403


class ConnectionRegistry:
    """Which websockets belong to which session, in this process."""

    def __init__(self) -> None:
        self._sockets: dict[int, set[Any]] = defaultdict(set)
        self._task: asyncio.Task[None] | None = None

    def add(self, session_id: int, websocket: Any) -> None:
        self._sockets[session_id].add(websocket)

    def discard(self, session_id: int, websocket: Any) -> None:
        sockets = self._sockets.get(session_id)
        if sockets is not None:
            sockets.discard(websocket)
            if not sockets:
                del self._sockets[session_id]

    async def close_sessions(self, session_ids: list[int]) -> int:
        closed = 0
        for session_id in session_ids:
            for websocket in list(self._sockets.pop(session_id, ())):
                with contextlib.suppress(Exception):  # already gone is fine
                    await websocket.close(code=CLOSE_SESSION_REVOKED, reason="Session revoked")
                    closed += 1
        return closed

    def start(self, broker: Broker) -> None:
        self._task = asyncio.create_task(self._listen(broker), name="session-revocations")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _listen(self, broker: Broker) -> None:
        while True:
            try:
                async with broker.subscribe(SESSIONS_REVOKED) as events:
                    async for event in events:
                        await self.close_sessions([int(i) for i in event.get("sessionIds", [])])
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("session revocation listener failed; resubscribing")
                await asyncio.sleep(1)
