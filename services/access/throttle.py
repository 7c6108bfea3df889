"""Throttling of every place a secret is checked, kept in PostgreSQL so every app process shares it.

An attempt is *reserved* before the secret is verified: one atomic upsert per key counts it and, once the key's
free attempts are used up, locks the key at once, so a parallel burst gets exactly the free attempts verified and
the rest refused. Each further attempt admitted after a lock ran out locks the key twice as long (1 s, 2 s, 4 s,
…, at most 15 minutes; the first lock is ``THROTTLE_FIRST_LOCK_SECONDS``); while a key is locked nothing is
admitted or counted. An hour without attempts starts the
count again. A successful check clears the account (or subject) key and gives its attempt back to the address key;
a failed one needs no write, it was counted when it was admitted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession

from core.database import Database
from core.errors import DomainError
from core.metrics import THROTTLED
from core.settings import Settings

MAX_DELAY_SECONDS = 15 * 60


ACCOUNT_FREE_ATTEMPTS = 5  # per account (login) and per signed-in subject (password and code checks)


ADDRESS_FREE_ATTEMPTS = 30  # per client address, whatever the secret


# `failures` counts attempts in the current window and `last_failure_at` is the latest attempt (the columns keep
# their first names). The WHERE of DO UPDATE leaves a locked key as it is; RETURNING is then empty. Concurrent
# reservations of one key queue on its row, so each sees the count the previous one left.
_COUNT = "CASE WHEN t.last_failure_at > now() - interval '1 hour' THEN t.failures + 1 ELSE 1 END"


_LOCK = (
    "CASE WHEN {n} >= :free "
    "THEN now() + make_interval(secs => least(:first_lock * power(2, {n} - :free), :max_delay)) END"
)


_RESERVE = text(
    f"""
    INSERT INTO auth_throttle AS t (key, failures, last_failure_at, locked_until)
    VALUES (:key, 1, now(), {_LOCK.format(n="1")})
    ON CONFLICT (key) DO UPDATE
        SET failures = {_COUNT}, last_failure_at = now(), locked_until = {_LOCK.format(n=f"({_COUNT})")}
        WHERE t.locked_until IS NULL OR t.locked_until <= now()
    RETURNING t.failures
    """
)


_RETRY_AFTER = text(
    "SELECT greatest(1, ceil(extract(epoch FROM max(locked_until) - now())))::int FROM auth_throttle "
    "WHERE key IN :keys AND locked_until > now()"
).bindparams(bindparam("keys", expanding=True))


_CLEAR = text("DELETE FROM auth_throttle WHERE key = :key")


_REFUND = text("UPDATE auth_throttle SET failures = greatest(failures - 1, 0) WHERE key = :key")


@dataclass(frozen=True, slots=True)
class ThrottleKey:
    key: str
    free_attempts: int
    # an account or subject key starts afresh after a success; an address key only gets that attempt back
    cleared_on_success: bool = True


def address_keys(client_ip: str | None) -> list[ThrottleKey]:
    """The client address's key; requests whose address is unknown share one (core.context.client_address)."""
    return [ThrottleKey(f"address:{client_ip or 'unknown'}", ADDRESS_FREE_ATTEMPTS, cleared_on_success=False)]


def login_keys(*, portal: str | None, email: str, client_ip: str | None) -> list[ThrottleKey]:
    """Sign-in: the account (portal, or staff, and email) and the client address."""
    account = ThrottleKey(f"account:{portal or '-staff-'}:{email}", ACCOUNT_FREE_ATTEMPTS)
    return [account, *address_keys(client_ip)]


def secret_keys(*, subject: str, client_ip: str | None) -> list[ThrottleKey]:
    """A password or code check inside a session: the subject (``staff:<id>``, ``person:<id>``) and the address."""
    return [ThrottleKey(f"secret:{subject}", ACCOUNT_FREE_ATTEMPTS), *address_keys(client_ip)]


async def reserve(db: Database, keys: Sequence[ThrottleKey], settings: Settings) -> None:
    """Count one attempt against every key before a secret is checked; TOO_MANY_ATTEMPTS while any is locked.

    Runs in a short transaction of its own: call it while no other connection of the request is checked out.
    Keys are taken in one order, so reservations sharing keys never deadlock; a refused reservation counts nothing.
    """
    if not keys:
        return
    async with db.transaction() as session:
        for key in sorted(keys, key=lambda k: k.key):
            params = {
                "key": key.key,
                "free": key.free_attempts,
                "max_delay": MAX_DELAY_SECONDS,
                "first_lock": settings.throttle_first_lock_seconds,
            }
            if await session.scalar(_RESERVE, params) is None:
                wait = await session.scalar(_RETRY_AFTER, {"keys": [k.key for k in keys]})
                THROTTLED.labels("attempts").inc()
                raise DomainError(
                    "TOO_MANY_ATTEMPTS", "Too many attempts; try again later.", retry_after_seconds=int(wait or 1)
                )


async def succeeded(session: AsyncSession, keys: Sequence[ThrottleKey]) -> None:
    """After a successful check, in the caller's transaction: clear the account or subject key, refund the address."""
    for key in sorted(keys, key=lambda k: k.key):  # the order of ``reserve``: no deadlock with a parallel one
        await session.execute(_CLEAR if key.cleared_on_success else _REFUND, {"key": key.key})
