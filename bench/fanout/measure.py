"""The measurements of ``make bench-fanout``, the same for Portico and for the graphql-ws reference: N subscribers
of one organization and a mutation per round; a SaaS-shaped load (many organizations, events at a steady rate)."""

from __future__ import annotations

import asyncio
import datetime as dt
import gc
import random
import statistics
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson

from bench.fanout.client import Subscriber, close_all, connect_all, settled
from bench.fanout.servers import Server, cpu_seconds, rss_bytes

Publish = Callable[[int, int, int], Awaitable[str]]  # (organization, contact, estimate pk) -> the document's id


@dataclass
class Side:
    """One server under test, as the measurements drive it."""

    name: str  # "portico" or "graphql-ws"
    server: Server  # holds every subscriber
    other: Server | None  # a second process that takes mutations (Portico's cross-instance hop)
    tokens: list[str]  # one organization's staff sessions
    send: Callable[[httpx.AsyncClient, str], Awaitable[str]]  # one round's mutation on a URL -> the document's id
    probe: Callable[[list[int]], Awaitable[None]]  # an event to every subscriber of the organization
    publish: Publish  # the SaaS load's events


@dataclass
class Round:
    instance: str
    latencies: list[float]  # seconds from the document's sentAt to each arrival
    expected: int
    server_cpu: float = 0.0

    @property
    def all_delivered(self) -> float | None:
        return max(self.latencies) if len(self.latencies) == self.expected else None


@dataclass
class Fanout:
    n: int
    connect_seconds: float
    connect_cpu: float  # the subscribers' server's CPU seconds while they connected
    listening_seconds: float  # from the first connect until every subscription delivered a probe
    bytes_per_connection: float
    rounds: dict[str, list[Round]] = field(default_factory=dict)


async def fanout(side: Side, n: int, rounds: int) -> Fanout:
    rss_before, cpu_before = rss_bytes(side.server.pid), cpu_seconds(side.server.pid)
    started = time.monotonic()
    subscribers, connect_seconds = await connect_all(side.server.ws_url, side.tokens[:n])
    connect_cpu = cpu_seconds(side.server.pid) - cpu_before
    try:
        await until_listening(subscribers, side.probe)
    except NotListening:
        await close_all(subscribers)
        raise
    listening = time.monotonic() - started
    await settled(subscribers)
    result = Fanout(n, connect_seconds, connect_cpu, listening, (rss_bytes(side.server.pid) - rss_before) / n)
    instances = [("same", side.server)] + ([("cross", side.other)] if side.other else [])
    async with httpx.AsyncClient(timeout=30) as client:
        for _ in range(rounds):
            for instance, server in instances:
                cpu = cpu_seconds(side.server.pid)
                outcome = await one_round(client, side, server, subscribers, instance)  # type: ignore[arg-type]
                outcome.server_cpu = cpu_seconds(side.server.pid) - cpu
                result.rounds.setdefault(instance, []).append(outcome)
                await settled(subscribers, 0.3)
    await close_all(subscribers)
    return result


class NotListening(Exception):
    """Subscriptions that never delivered a probe: the case's figures are invalid (the others still print)."""


async def until_listening(subscribers: list[Subscriber], probe: Callable[[list[int]], Awaitable[None]]) -> None:
    """Probe until every subscription delivered one (a message published before it listens is not delivered);
    ``probe`` gets the places of the subscribers still waiting."""
    deadline, wait = time.monotonic() + 300, 0.25
    while any(s.events == 0 for s in subscribers):
        waiting = [i for i, s in enumerate(subscribers) if s.events == 0]
        closed = Counter(s.closed_with for s in subscribers if s.closed_with is not None)
        if closed:
            raise NotListening(f"the server closed sockets before they delivered (close codes: {dict(closed)})")
        if time.monotonic() > deadline:
            got = Counter(orjson.dumps(m).decode()[:300] for i in waiting for m in subscribers[i].failed[:1])
            still_open = sum(subscribers[i].transport is not None for i in waiting)
            raise NotListening(
                f"{len(waiting):,} of {len(subscribers):,} subscriptions did not start in 300 s ({still_open:,} of "
                f"them still open); what they got instead: {dict(got.most_common(3)) or 'nothing'}"
            )
        await probe(waiting)
        # one probe at a time: each fans out to every subscriber, a backlog of them would delay the rounds
        wait_until = time.monotonic() + wait
        while any(s.events == 0 for s in subscribers) and time.monotonic() < wait_until:
            await asyncio.sleep(0.05)
        wait = min(15.0, wait * 2)


async def one_round(
    client: httpx.AsyncClient, side: Side, server: Server, subscribers: list[Subscriber], instance: str
) -> Round:
    document = await side.send(client, server.url)
    deadline = time.monotonic() + 30
    while any(not s.arrived(document) for s in subscribers) and time.monotonic() < deadline:
        await asyncio.sleep(0.005)
    latencies = [d.arrived - d.sent_at for s in subscribers for d in s.deliveries if d.document_id == document]
    return Round(instance, latencies, len(subscribers))


@dataclass
class Saas:
    sockets: int
    organizations: int
    events: int
    rate: float  # events per second, as sent
    expected: int  # deliveries the events should make
    latencies: list[float]  # seconds from publishing to each arrival
    wrong: int  # deliveries to a socket that may not see the event (must be 0)
    duplicates: int  # an event delivered again to a socket that had it (must be 0)
    server_cpu: float
    connect_seconds: float

    def p(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else float("inf")


async def saas(
    server: Server,
    population: list[Any],
    tokens: Callable[[Any], list[tuple[str, int | None]]],
    publish: Publish,
    rate: float,
    probe_all: Callable[[list[int]], Awaitable[None]],
) -> Saas:
    """Sockets of every tenant (``tokens(tenant)`` -> (token, contact or None for staff)), then one event per sent
    estimate at ``rate`` per second, each to its own organization's audience."""
    audience = [(tenant.id, contact, token) for tenant in population for token, contact in tokens(tenant)]
    subscribers, connect_seconds = await connect_all(server.ws_url, [token for _, _, token in audience])
    try:
        await until_listening(subscribers, probe_all)
    except NotListening:
        await close_all(subscribers)
        raise
    await settled(subscribers)
    for subscriber in subscribers:
        subscriber.deliveries.clear()
    # every estimate of a contact but its last, which the probes use (a probe delivered late is no measured event)
    plan = [(t.id, c, pk) for t in population for c, pks in t.estimates.items() for pk in pks[:-1]]
    random.Random(19).shuffle(plan)
    sent: dict[str, tuple[float, int, int]] = {}
    # this client holds 10,000 sockets' objects too: its own full collections (0.2-0.35 s) would be timed as
    # delivery latency, so its collector waits while the events are measured (the same for both servers)
    gc.collect()
    gc.disable()
    try:
        cpu = cpu_seconds(server.pid)
        started = time.monotonic()
        for i, (org, contact, pk) in enumerate(plan):
            await asyncio.sleep(max(0.0, started + i / rate - time.monotonic()))
            at = time.time()
            sent[await publish(org, contact, pk)] = (at, org, contact)
        elapsed = time.monotonic() - started
        await settled(subscribers, 1.0)
        server_cpu = cpu_seconds(server.pid) - cpu
    finally:
        gc.enable()
    latencies, wrong, duplicates = _arrivals(subscribers, audience, sent)
    expected = _expected(audience, sent.values())
    await close_all(subscribers)
    rate_sent = len(plan) / elapsed
    return Saas(
        len(subscribers),
        len(population),
        len(plan),
        rate_sent,
        expected,
        latencies,
        wrong,
        duplicates,
        server_cpu,
        connect_seconds,
    )


def _arrivals(
    subscribers: list[Subscriber], audience: list[tuple[int, int | None, str]], sent: dict[str, tuple[float, int, int]]
) -> tuple[list[float], int, int]:
    """Each measured delivery's latency (probes are not), how many went to a socket that may not see the event, and
    how many a socket had already."""
    latencies, wrong, duplicates = [], 0, 0
    for subscriber, (org, contact, _) in zip(subscribers, audience, strict=True):
        had: set[str] = set()
        for delivery in subscriber.deliveries:
            if delivery.document_id not in sent:
                continue  # a probe's, delivered after the subscriptions had all started
            if delivery.document_id in had:
                duplicates += 1
                continue
            had.add(delivery.document_id)
            at, event_org, event_contact = sent[delivery.document_id]
            if event_org != org or (contact is not None and contact != event_contact):
                wrong += 1
            latencies.append(delivery.arrived - at)
    return latencies, wrong, duplicates


def _expected(audience: list[tuple[int, int | None, str]], events: Any) -> int:
    staff: dict[int, int] = {}
    portal: dict[tuple[int, int], int] = {}
    for org, contact, _ in audience:
        if contact is None:
            staff[org] = staff.get(org, 0) + 1
        else:
            portal[(org, contact)] = portal.get((org, contact), 0) + 1
    return sum(staff.get(org, 0) + portal.get((org, contact), 0) for _, org, contact in events)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("inf")


def iso_now() -> str:
    return dt.datetime.now(dt.UTC).isoformat()
