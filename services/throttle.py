"""Sign-in throttling with growing delays, kept in PostgreSQL so every app process shares it.

Each failed attempt counts against two keys: the account (portal + email) and the client address. After a
key's free attempts, each further failure locks it for twice as long as the one before (1 s, 2 s, 4 s, …,
at most 15 minutes). An hour without failures resets a key; a successful sign-in resets the account key.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from models import AuthThrottle

T_THROTTLE = AuthThrottle.__table__
MAX_DELAY_SECONDS = 15 * 60

# The upsert is atomic: concurrent failures on one key queue on its row and each one counts.
_NEXT = "CASE WHEN t.last_failure_at > now() - interval '1 hour' THEN t.failures + 1 ELSE 1 END"
_LOCK = "CASE WHEN {n} > :free THEN now() + make_interval(secs => least(power(2, {n} - :free - 1), :max_delay)) END"
_RECORD_FAILURE = text(
    f"""
    INSERT INTO auth_throttle AS t (key, failures, last_failure_at, locked_until)
    VALUES (:key, 1, now(), {_LOCK.format(n="1")})
    ON CONFLICT (key) DO UPDATE
        SET failures = {_NEXT}, last_failure_at = now(), locked_until = {_LOCK.format(n=f"({_NEXT})")}
    """
)


@dataclass(frozen=True, slots=True)
class ThrottleKey:
    key: str
    free_attempts: int


def login_keys(*, portal: str | None, email: str, client_ip: str | None) -> list[ThrottleKey]:
    keys = [ThrottleKey(f"account:{portal or '-staff-'}:{email}", free_attempts=5)]
    if client_ip:
        keys.append(ThrottleKey(f"address:{client_ip}", free_attempts=30))
    return keys


async def retry_after(session: AsyncSession, keys: list[ThrottleKey]) -> int | None:
    """Seconds until the most locked of ``keys`` may try again, or None when none is locked."""
    locked_until = await session.scalar(
        select(func.max(T_THROTTLE.c.locked_until)).where(
            T_THROTTLE.c.key.in_([k.key for k in keys]), T_THROTTLE.c.locked_until > func.now()
        )
    )
    if locked_until is None:
        return None
    return max(1, int((locked_until - datetime.now(UTC)).total_seconds() + 0.999))


async def record_failure(session: AsyncSession, keys: list[ThrottleKey]) -> None:
    """Count a failed attempt against each key, in the caller's transaction."""
    for key in keys:
        await session.execute(
            _RECORD_FAILURE, {"key": key.key, "free": key.free_attempts, "max_delay": MAX_DELAY_SECONDS}
        )


async def clear(session: AsyncSession, key: ThrottleKey) -> None:
    await session.execute(delete(T_THROTTLE).where(T_THROTTLE.c.key == key.key))
