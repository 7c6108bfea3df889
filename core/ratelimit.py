"""Rate limits: a token bucket per session and per client address, in PostgreSQL so every app process shares it.

An operation takes its cost (``core.cost``) from the bucket of the session it runs as and from the bucket of the
client address (an anonymous operation: the address's alone). A bucket holds at most ``burst`` tokens and refills
at ``per_second``. Taking from the table is one statement: each bucket is refilled, checked and debited by an
atomic upsert, so parallel requests can never spend a token twice (they queue on the bucket's row for the few
microseconds of the update). The table is UNLOGGED: a bucket is worth nothing after a crash.

A process does not write the table for every operation: when it takes from a bucket it also takes an allowance
(a tenth of the burst, or as much of it as the bucket holds after the cost) and spends the next operations' costs
from it in memory. An allowance lasts a second (``RATE_LIMIT_ALLOWANCE_SECONDS``); what is left of it goes back to
the bucket with the next take of that bucket. Tokens in one process's allowance are not available to another for
that second, so the limits can only be stricter than configured, never looser; an allowance never makes a take
fail that the cost alone would pass. When a tenth of the burst is below an operation's cost there is no allowance
and every take goes to the table.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from weakref import WeakKeyDictionary

from sqlalchemy import text

from core.database import Database
from core.settings import Settings
from core.sqltext import Statement, marker, numbered


def take_cte(n: int, key: str, param: Callable[[str], str], *, guard: str = "") -> str:
    """The CTE ``take{n}``: bucket ``key`` (SQL) refilled since its last take, with ``back{n}`` (an old allowance's
    leftover) added and capped at ``burst{n}``, pays ``cost{n}`` and up to ``extra{n}`` more (a new allowance: as
    much of it as the bucket still holds after the cost); it returns ``granted`` (what it gave beyond the cost), and
    no row when the bucket cannot cover the cost (its row unchanged). ``param`` spells a parameter's reference;
    ``guard`` is SQL that must hold for a bucket to be made. The one statement every take of the app goes through
    (``take`` below, the planned reads' statements)."""

    def value(name: str) -> str:
        return f"CAST({param(f'{name}{n}')} AS float8)"

    burst, cost, extra = value("burst"), value("cost"), value("extra")
    refilled = (
        f"least({burst}, b.tokens + {value('back')} + {value('rate')} * extract(epoch FROM now() - b.updated_at))"
    )
    return f"""take{n} AS (
    INSERT INTO rate_limit_bucket AS b (key, tokens, granted, updated_at)
    SELECT {key}, {burst} - {cost} - least({extra}, {burst} - {cost}), least({extra}, {burst} - {cost}), now()
        WHERE {guard}{burst} >= {cost}
    ON CONFLICT (key) DO UPDATE SET
        tokens = {refilled} - {cost} - least({extra}, {refilled} - {cost}),
        granted = least({extra}, {refilled} - {cost}),
        updated_at = now()
        WHERE {refilled} >= {cost}
    RETURNING b.granted
)"""


def granted_columns(keys: int) -> str:
    """What each take granted, as columns ``granted0``, ``granted1``…: NULL where the bucket refused."""
    return ", ".join(f"(SELECT granted FROM take{n}) AS granted{n}" for n in range(keys))


@lru_cache(maxsize=4)
def _take_statement(keys: int) -> Statement:
    takes = ",".join(take_cte(n, f"CAST({marker(f'key{n}')} AS varchar)", marker) for n in range(keys))
    return numbered(f"WITH {takes} SELECT {granted_columns(keys)}")


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
    taking: dict[str, asyncio.Event] = field(default_factory=dict)  # buckets a take of this process is writing

    def spend(self, wanted: list[Bucket], cost: float) -> bool:
        """Spend ``cost`` from the allowance of every bucket, if each still covers it (no await: atomic)."""
        if not all(self.covers(bucket, cost) for bucket in wanted):
            return False
        for bucket in wanted:
            self.held[bucket.key].tokens -= cost
        return True

    def covers(self, bucket: Bucket, cost: float) -> bool:
        """Whether this bucket's allowance still holds ``cost``."""
        allowance = self.held.get(bucket.key)
        return allowance is not None and allowance.until > time.monotonic() and allowance.tokens >= cost

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


@asynccontextmanager
async def budget(db: Database, wanted: list[Bucket], cost: float) -> AsyncIterator[list[Take] | None]:
    """The way every operation pays ``cost`` to ``wanted``: None when this process's allowances paid; else what
    its own statement is to take (``take_cte``; ``settle`` it inside the block). While one operation of a process
    takes from a bucket, the others of that process wait for it and spend from the allowance it brings (a burst of
    a session's requests writes its row once, instead of every request asking for an allowance of its own and the
    later ones finding the bucket lent out to this very process). An operation waits only when every bucket it
    lacks an allowance of is being taken already: one that must take from a bucket of its own anyway (a new
    session's, beside the address bucket it shares with others) takes at once."""
    held = allowances(db)
    while not (not wanted or held.spend(wanted, cost)):
        lacking = [bucket for bucket in wanted if not held.covers(bucket, cost)]
        pending = [held.taking[bucket.key] for bucket in lacking if bucket.key in held.taking]
        # (without an allowance to come, there is nothing to wait for)
        if pending and len(pending) == len(lacking) and all(_extra(bucket, cost) for bucket in lacking):
            await pending[0].wait()
            continue
        marked = [bucket.key for bucket in wanted if bucket.key not in held.taking]
        for key in marked:
            held.taking[key] = asyncio.Event()
        try:
            yield takes(held, wanted, cost, lending=marked)
        finally:
            for key in marked:
                held.taking.pop(key).set()
        return
    yield None


def takes(held: Allowances, wanted: list[Bucket], cost: float, *, lending: Sequence[str]) -> list[Take]:
    """Per bucket of ``wanted``, what a take of ``cost`` asks for beside it and gives back (``take_cte``'s
    ``extra`` and ``back``); the old allowances are spent from then on. Only the buckets in ``lending`` are asked
    for an allowance: of a bucket another take of this process is writing already, which brings
    one, the cost alone (100 new sessions from one address taking at once would otherwise ask the shared address
    bucket for 100 allowances, lend it out whole, and have the next operation refused)."""
    return [
        Take(_extra(bucket, cost), held.leftover(bucket)) if bucket.key in lending else Take(0.0, 0.0)
        for bucket in wanted
    ]


@dataclass(frozen=True, slots=True)
class Take:
    extra: float  # a new allowance asked for beside the cost (what the bucket still holds of it is granted)
    back: float  # what is left of the old allowance, given back to the bucket


def take_values(wanted: list[Bucket], cost: float, asked: list[Take]) -> dict[str, object]:
    """The parameters of ``take_cte`` for each bucket of ``wanted`` (its ``n`` the bucket's place)."""
    values: dict[str, object] = {}
    for n, (bucket, take) in enumerate(zip(wanted, asked, strict=True)):
        values |= {
            f"key{n}": bucket.key,
            f"burst{n}": float(bucket.burst),
            f"rate{n}": float(bucket.per_second),
            f"cost{n}": float(cost),
            f"extra{n}": float(take.extra),
            f"back{n}": float(take.back),
        }
    return values


def _extra(bucket: Bucket, cost: float) -> float:
    allowance = allowance_of(bucket)
    return allowance if allowance >= cost else 0.0


async def settle(
    db: Database, wanted: list[Bucket], cost: float, asked: list[Take], granted: Sequence[float | None]
) -> bool:
    """After a statement took from ``wanted`` (``granted``: its ``granted_columns``, NULL where a bucket refused):
    True when the operation is paid, and the process holds what each bucket granted. A bucket that refused while
    this process holds its tokens (an allowance a parallel take of its brought) is paid from that allowance.
    Otherwise the operation costs nothing: a bucket that paid gets its cost and grant back, a refused one (its
    row unchanged) what its old allowance held."""
    held = allowances(db)
    refused = [bucket for bucket, amount in zip(wanted, granted, strict=True) if amount is None]
    for bucket, take, amount in zip(wanted, asked, granted, strict=True):
        if amount is None:
            held.grant(bucket, take.back)
    if not refused or held.spend(refused, cost):
        for bucket, amount in zip(wanted, granted, strict=True):
            if amount is not None:
                held.grant(bucket, float(amount))
        return True
    refunds = [
        (bucket, cost + float(amount) if amount is not None else held.leftover(bucket))
        for bucket, amount in zip(wanted, granted, strict=True)
    ]
    async with db.session() as session:
        for bucket, amount in refunds:
            if amount:
                await session.execute(_REFUND, {"key": bucket.key, "cost": amount, "burst": float(bucket.burst)})
    return False


def untaken(db: Database, wanted: list[Bucket], asked: list[Take]) -> None:
    """A statement that took nothing after all (no session): what the old allowances held is this process's again."""
    held = allowances(db)
    for bucket, take in zip(wanted, asked, strict=True):
        held.grant(bucket, take.back)


async def take(db: Database, wanted: list[Bucket], cost: float) -> int | None:
    """Take ``cost`` tokens from each bucket; None when every bucket had them, else the seconds until the
    emptiest one will (a refused operation spends nothing)."""
    async with budget(db, wanted, cost) as asked:
        if asked is None:
            return None
        statement = _take_statement(len(wanted))
        granted = list(await db.fetch_row(statement.sql, statement.arguments(take_values(wanted, cost, asked))))
        if await settle(db, wanted, cost, asked, granted):
            return None
    wait = 1
    async with db.session() as session:
        for bucket, amount in zip(wanted, granted, strict=True):
            if amount is not None:
                continue
            state = (await session.execute(_TOKENS, {"key": bucket.key})).one_or_none()
            if state is None:  # more than the whole burst: never
                return 3600
            available = min(bucket.burst, state.tokens + bucket.per_second * float(state.idle))
            wait = max(wait, math.ceil((cost - available) / bucket.per_second))
    return wait


async def prune(db: Database, *, idle_hours: float = 24) -> int:
    """Forget buckets untouched for ``idle_hours`` (a full one is the same as none)."""
    async with db.session() as session:
        result = await session.execute(
            text("DELETE FROM rate_limit_bucket WHERE updated_at < now() - make_interval(secs => :secs)"),
            {"secs": idle_hours * 3600},
        )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
