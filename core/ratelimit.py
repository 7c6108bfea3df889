"""Rate limits: a token bucket per session and per client address, in PostgreSQL so every app process shares it.

An operation takes its cost (``core.cost``) from the bucket of the session it runs as and from the bucket of the
client address (an anonymous operation: the address's alone). A bucket holds at most ``burst`` tokens and refills
at ``per_second``. Taking from the table is one statement: each bucket is refilled, checked and debited by an
atomic upsert, so parallel requests can never spend a token twice (they queue on the bucket's row for the few
microseconds of the update). The table is UNLOGGED: a bucket is worth nothing after a crash.

A process does not write the table for every operation: when it takes from a bucket it also takes an allowance
(a tenth of the burst) and spends the next operations' costs from it in memory. An allowance lasts a second
(``RATE_LIMIT_ALLOWANCE_SECONDS``); what is left of it goes back to the bucket with the next take of that bucket.
Tokens in one process's allowance are not available to another for that second, so the limits can only be
stricter than configured, never looser; when a tenth of the burst is below an operation's cost there is no
allowance and every take goes to the table.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from functools import lru_cache
from weakref import WeakKeyDictionary

from sqlalchemy import TextClause, text

from core.database import Database
from core.settings import Settings

# Refill since the last take and what an allowance gives back, capped at the burst; the upsert's WHERE refuses a
# take the bucket cannot cover (:take{n} is the operation's cost and the allowance asked for with it).
_REFILLED = (
    "least(CAST(:burst{n} AS float8), b.tokens + CAST(:back{n} AS float8)"
    " + CAST(:rate{n} AS float8) * extract(epoch FROM now() - b.updated_at))"
)
_TAKE_ONE = f"""
take{{n}} AS (
    INSERT INTO rate_limit_bucket AS b (key, tokens, updated_at)
    SELECT CAST(:key{{n}} AS varchar), CAST(:burst{{n}} AS float8) - CAST(:take{{n}} AS float8), now()
        WHERE CAST(:burst{{n}} AS float8) >= CAST(:take{{n}} AS float8)
    ON CONFLICT (key) DO UPDATE SET tokens = {_REFILLED} - CAST(:take{{n}} AS float8), updated_at = now()
        WHERE {_REFILLED} >= CAST(:take{{n}} AS float8)
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
    allowance_seconds: float = 1.0  # how long a process may spend an allowance before what is left goes back


def buckets(settings: Settings, *, session_id: int | None, client_ip: str | None) -> list[Bucket]:
    """The buckets an operation of this session (or none) from this address draws on."""
    found = []
    seconds = settings.rate_limit_allowance_seconds
    if session_id is not None:
        found.append(
            Bucket(
                f"session:{session_id}",
                settings.rate_limit_session_burst,
                settings.rate_limit_session_per_second,
                seconds,
            )
        )
    found.append(
        Bucket(
            f"address:{client_ip or 'unknown'}",
            settings.rate_limit_address_burst,
            settings.rate_limit_address_per_second,
            seconds,
        )
    )
    return found


def allowance_of(bucket: Bucket) -> float:
    """What a process takes beside an operation's cost, to spend on the next ones without a write."""
    return bucket.burst * 0.1


@dataclass(slots=True)
class _Allowance:
    tokens: float = 0.0
    until: float = 0.0  # time.monotonic() after which the tokens go back with the next take


@dataclass(slots=True)
class Allowances:
    """One process's allowances, by bucket key (for one database)."""

    held: dict[str, _Allowance] = field(default_factory=dict)

    def spend(self, wanted: list[Bucket], cost: float) -> bool:
        """Spend ``cost`` from the allowance of every bucket, if each still covers it (no await: atomic)."""
        now = time.monotonic()
        found = [self.held.get(bucket.key) for bucket in wanted]
        if not all(a is not None and a.until > now and a.tokens >= cost for a in found):
            return False
        for allowance in found:
            allowance.tokens -= cost  # type: ignore[union-attr]
        return True

    def leftover(self, bucket: Bucket) -> float:
        """What an allowance that is no longer spent holds; it goes back to the bucket with this take."""
        allowance = self.held.pop(bucket.key, None)
        return allowance.tokens if allowance is not None else 0.0

    def grant(self, bucket: Bucket, tokens: float) -> None:
        if tokens <= 0:
            return
        if len(self.held) > 10_000:
            self._forget_expired()
        until = time.monotonic() + bucket.allowance_seconds
        allowance = self.held.get(bucket.key)
        if allowance is None:
            self.held[bucket.key] = _Allowance(tokens, until)
        else:  # (another operation's take, made at the same time, granted one first: they add up)
            allowance.tokens += tokens
            allowance.until = until

    def refund(self, paid: list[Bucket], cost: float) -> list[Bucket]:
        """Give ``cost`` back to the allowances that still hold; the buckets without one (to refund in the table)."""
        now = time.monotonic()
        rest = []
        for bucket in paid:
            allowance = self.held.get(bucket.key)
            if allowance is not None and allowance.until > now:
                allowance.tokens += cost
            else:
                rest.append(bucket)
        return rest

    def _forget_expired(self) -> None:
        now = time.monotonic()
        for key in [key for key, allowance in self.held.items() if allowance.until <= now]:
            del self.held[key]


_ALLOWANCES: WeakKeyDictionary[Database, Allowances] = WeakKeyDictionary()


def allowances(db: Database) -> Allowances:
    found = _ALLOWANCES.get(db)
    if found is None:
        found = _ALLOWANCES[db] = Allowances()
    return found


def takes(held: Allowances, wanted: list[Bucket], cost: float) -> list[tuple[float, float]]:
    """For a statement of its own that takes from ``wanted`` (the planned reads'): per bucket, what to take (the
    cost and a new allowance, to ``grant`` once it paid) and what the old allowance gives back."""
    return [(cost + _extra(bucket, cost), held.leftover(bucket)) for bucket in wanted]


def _extra(bucket: Bucket, cost: float) -> float:
    allowance = allowance_of(bucket)
    return allowance if allowance >= cost else 0.0


async def take(db: Database, wanted: list[Bucket], cost: float) -> int | None:
    """Take ``cost`` tokens from each bucket; None when every bucket had them, else the seconds until the
    emptiest one will (a refused operation spends nothing)."""
    held = allowances(db)
    if held.spend(wanted, cost):
        return None
    extra = [_extra(bucket, cost) for bucket in wanted]
    if any(extra) and await _take(db, held, wanted, cost, extra) is None:
        return None
    # (near the limit, or when an allowance would be below one operation's cost: the cost alone)
    return await _take(db, held, wanted, cost, [0.0] * len(wanted))


async def _take(db: Database, held: Allowances, wanted: list[Bucket], cost: float, extra: list[float]) -> int | None:
    params: dict[str, object] = {}
    back = [held.leftover(bucket) for bucket in wanted]
    for n, bucket in enumerate(wanted):
        params |= {
            f"key{n}": bucket.key,
            f"burst{n}": float(bucket.burst),
            f"rate{n}": float(bucket.per_second),
            f"take{n}": float(cost + extra[n]),
            f"back{n}": back[n],
        }
    async with db.session() as session:
        row = (await session.execute(_take_statement(len(wanted)), params)).one()
        refused = [bucket for n, bucket in enumerate(wanted) if not row[n]]
        if not refused:
            for n, bucket in enumerate(wanted):
                held.grant(bucket, extra[n])
            return None
        for n, bucket in enumerate(wanted):
            # a refused operation costs nothing: give back what the other buckets paid for it (a refused bucket's
            # row was not written, so what its old allowance held goes back on its own)
            amount = cost + extra[n] if row[n] else back[n]
            if amount:
                await session.execute(_REFUND, {"key": bucket.key, "cost": amount, "burst": float(bucket.burst)})
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
    rest = allowances(db).refund(paid, cost)
    if not rest:
        return
    async with db.session() as session:
        for bucket in rest:
            await session.execute(_REFUND, {"key": bucket.key, "cost": float(cost), "burst": float(bucket.burst)})


async def prune(db: Database, *, idle_hours: float = 24) -> int:
    """Forget buckets untouched for ``idle_hours`` (a full one is the same as none)."""
    async with db.session() as session:
        result = await session.execute(
            text("DELETE FROM rate_limit_bucket WHERE updated_at < now() - make_interval(secs => :secs)"),
            {"secs": idle_hours * 3600},
        )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
