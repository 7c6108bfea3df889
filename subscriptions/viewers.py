"""Who a websocket's session belongs to now, re-checked for every event.

A websocket authenticates once, at ``connection_init``; its session may since have been revoked or expired,
the person's portal access disabled, the staff user deactivated, or the organization may have hidden projects.
Before an event is delivered the session is read again with ``core.auth.current_viewers`` (the rule HTTP uses,
without the idle timeout: an open socket is activity), one query per event per process for every subscriber.
"""

from __future__ import annotations

from collections.abc import Sequence

from strawberry.dataloader import DataLoader

from core.auth import Viewer, current_viewers
from core.database import Database


def viewer_loader(db: Database) -> DataLoader[int, Viewer | None]:
    """A loader of current viewers by session id, for one event: every subscriber's check in one query."""

    async def load(session_ids: Sequence[int]) -> list[Viewer | None]:
        return await current_viewers(db, session_ids)

    return DataLoader(load_fn=load)
