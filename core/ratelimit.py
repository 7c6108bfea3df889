"""Rate limits: a token bucket per session and per client address, in PostgreSQL so every app process shares it.

An operation takes its cost (``core.cost``) from the bucket of the session it runs as and from the bucket of the
client address (an anonymous operation: the address's alone). A bucket holds at most ``burst`` tokens and refills
at ``per_second``. Taking is one statement: each bucket is refilled, checked and debited by an atomic upsert, so
parallel requests can never spend a token twice (they queue on the bucket's row for the few microseconds of the
update). The table is UNLOGGED: a bucket is worth nothing after a crash.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import TextClause, text

from core.database import Database
from core.settings import Settings

# Refill since the last take, capped at the burst; the upsert's WHERE refuses a take the bucket cannot cover.
_REFILLED = (
    "least(CAST(:burst{n} AS float8), b.tokens + CAST(:rate{n} AS float8) * extract(epoch FROM now() - b.updated_at))"
)
_TAKE_ONE = f"""
take{{n}} AS (
    INSERT INTO rate_limit_bucket AS b (key, tokens, updated_at)
    SELECT CAST(:key{{n}} AS varchar), CAST(:burst{{n}} AS float8) - CAST(:cost AS float8), now()
        WHERE CAST(:burst{{n}} AS float8) >= CAST(:cost AS float8)
    ON CONFLICT (key) DO UPDATE SET tokens = {_REFILLED} - CAST(:cost AS float8), updated_at = now()
        WHERE {_REFILLED} >= CAST(:cost AS float8)
    RETURNING 1
)"""


@lru_cache(maxsize=4)
def _take_statement(keys: int) -> TextClause:
    takes = ",".join(_TAKE_ONE.format(n=n) for n in range(keys))
    results = ", ".join(f"(SELECT count(*) FROM take{n}) AS ok{n}" for n in range(keys))
    return text(f"WITH {takes} SELECT {results}")


_REFUND = text(
    "UPDATE rate_limit_bucket SET tokens = least(CAST(:burst AS float8), tokens + CAST(:cost AS float8)) "
    "WHERE key = :key"
)
_TOKENS = text("SELECT tokens, extract(epoch FROM now() - updated_at) AS idle FROM rate_limit_bucket WHERE key = :key")


@dataclass(frozen=True, slots=True)
class Bucket:
    key: str
    burst: float
    per_second: float


def buckets(settings: Settings, *, session_id: int | None, client_ip: str | None) -> list[Bucket]:
    """The buckets an operation of this session (or none) from this address draws on."""
    found = []
    if session_id is not None:
        found.append(
            Bucket(f"session:{session_id}", settings.rate_limit_session_burst, settings.rate_limit_session_per_second)
        )
    found.append(
        Bucket(
            f"address:{client_ip or 'unknown'}",
            settings.rate_limit_address_burst,
            settings.rate_limit_address_per_second,
        )
    )
    return found


async def take(db: Database, wanted: list[Bucket], cost: float) -> int | None:
    """Take ``cost`` tokens from each bucket; None when every bucket had them, else the seconds until the
    emptiest one will (a refused operation spends nothing)."""
    params: dict[str, object] = {"cost": float(cost)}
    for n, bucket in enumerate(wanted):
        params |= {f"key{n}": bucket.key, f"burst{n}": float(bucket.burst), f"rate{n}": float(bucket.per_second)}
    async with db.session() as session:
        row = (await session.execute(_take_statement(len(wanted)), params)).one()
        refused = [bucket for n, bucket in enumerate(wanted) if not row[n]]
        if not refused:
            return None
        for n, bucket in enumerate(wanted):
            if row[n]:  # a refused operation costs nothing: give back what the other buckets paid for it
                await session.execute(_REFUND, {"key": bucket.key, "cost": float(cost), "burst": float(bucket.burst)})
        wait = 1
        for bucket in refused:
            state = (await session.execute(_TOKENS, {"key": bucket.key})).one_or_none()
            if state is None:  # more than the whole burst: never
                return 3600
            available = min(bucket.burst, state.tokens + bucket.per_second * float(state.idle))
            wait = max(wait, math.ceil((cost - available) / bucket.per_second))
        return wait


async def give_back(db: Database, paid: list[Bucket], cost: float) -> None:
    """Return ``cost`` to each bucket in ``paid`` (capped at its burst): the operation it paid for did not run."""
    if not paid:
        return
    async with db.session() as session:
        for bucket in paid:
            await session.execute(_REFUND, {"key": bucket.key, "cost": float(cost), "burst": float(bucket.burst)})


async def prune(db: Database, *, idle_hours: float = 24) -> int:
    """Forget buckets untouched for ``idle_hours`` (a full one is the same as none)."""
    async with db.session() as session:
        result = await session.execute(
            text("DELETE FROM rate_limit_bucket WHERE updated_at < now() - make_interval(secs => :secs)"),
            {"secs": idle_hours * 3600},
        )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
