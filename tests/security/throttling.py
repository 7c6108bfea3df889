"""Test helpers for the throttle of secret checks (services/throttle.py)."""

from __future__ import annotations

from sqlalchemy import update

from core.database import Database
from models import AuthThrottle

T_THROTTLE = AuthThrottle.__table__


async def expire_locks(db: Database) -> None:
    """Let every lock run out now, as if its time had passed; the counts stay."""
    async with db.transaction() as session:
        await session.execute(update(T_THROTTLE).values(locked_until=None))
