"""The broadcast backends (memory, Redis, PostgreSQL) through the Broker: ordering, concurrency, bounded queues,
one upstream subscription per channel, and recovery after the server restarts or the listener is killed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from prometheus_client import REGISTRY
from redis import asyncio as aioredis

from core.settings import Settings
from subscriptions.backends import SlowConsumer
from subscriptions.backends.base import ReconnectingBackend
from subscriptions.backends.postgres import PostgresBackend, asyncpg_dsn
from subscriptions.broker import Broker
from tests.subscriptions.conftest import PrivateRedis
from tests.subscriptions.wsclient import until

CHANNEL = "portico.test.backend"


@pytest.fixture(params=["memory", "redis", "postgres"])
def url(request: pytest.FixtureRequest, settings: Settings) -> str:
    if request.param == "memory":
        return "memory://"
    if request.param == "redis":
        return str(request.getfixturevalue("private_redis").url)
    return settings.database_url


@pytest.fixture
async def broker(url: str) -> AsyncIterator[Broker]:
    broker = Broker(url)
    await broker.connect()
    try:
        yield broker
    finally:
        await broker.disconnect()


async def take(events: AsyncIterator[dict[str, Any]], count: int, timeout: float = 5) -> list[dict[str, Any]]:
    async def collect() -> list[dict[str, Any]]:
        return [await anext(events) for _ in range(count)]

    return await asyncio.wait_for(collect(), timeout)


async def test_events_published_after_subscribing_arrive_in_order(broker: Broker) -> None:
    async with broker.subscribe(CHANNEL) as events:
        for n in range(20):
            await broker.publish(CHANNEL, {"n": n})
        assert [event["n"] for event in await take(events, 20)] == list(range(20))


async def test_a_hundred_concurrent_publishes_all_reach_every_subscriber(broker: Broker) -> None:
    async with broker.subscribe(CHANNEL) as first, broker.subscribe(CHANNEL) as second:
        await asyncio.gather(*(broker.publish(CHANNEL, {"n": n}) for n in range(100)))
        for events in (first, second):
            assert sorted(event["n"] for event in await take(events, 100)) == list(range(100))


async def test_first_subscribers_arriving_together_share_one_upstream_subscription(broker: Broker, url: str) -> None:
    inside = asyncio.Barrier(21)
    received: list[dict[str, Any]] = []

    async def subscriber() -> None:
        async with broker.subscribe(CHANNEL) as events:
            await inside.wait()
            received.extend(await take(events, 1))

    tasks = [asyncio.create_task(subscriber()) for _ in range(20)]
    await asyncio.wait_for(inside.wait(), 5)
    assert broker.subscriber_count(CHANNEL) == 20
    if url.startswith("redis"):
        assert await upstream_subscribers(url, CHANNEL) == 1
    await broker.publish(CHANNEL, {"n": 1})
    await asyncio.wait_for(asyncio.gather(*tasks), 5)
    assert received == [{"n": 1}] * 20
    assert broker.subscriber_count(CHANNEL) == 0
    if url.startswith("redis"):
        await until_async(lambda: upstream_subscribers(url, CHANNEL), 0)


async def test_resubscribing_just_after_the_last_subscriber_left_still_receives(broker: Broker) -> None:
    for _ in range(10):
        async with broker.subscribe(CHANNEL):
            pass
    async with broker.subscribe(CHANNEL) as events:
        await broker.publish(CHANNEL, {"n": 1})
        assert await take(events, 1) == [{"n": 1}]


async def test_a_subscriber_that_falls_behind_is_dropped_and_its_queue_stays_bounded(url: str) -> None:
    broker = Broker(url, queue_size=4)
    await broker.connect()
    try:
        dropped = REGISTRY.get_sample_value("portico_events_dropped_total", {"reader": "listener"}) or 0
        async with broker.subscribe(CHANNEL) as fast, broker.listen(CHANNEL) as slow:
            for n in range(10):
                await broker.publish(CHANNEL, {"n": n})
                assert [event["n"] for event in await take(fast, 1)] == [n]
            assert broker.broadcast.dropped_subscribers == 1
            # (the 4 it had not read and the 5th that found its queue full, in the metrics)
            assert REGISTRY.get_sample_value("portico_events_dropped_total", {"reader": "listener"}) == dropped + 5
            assert broker.subscriber_count(CHANNEL) == 1  # the slow one no longer gets events
            with pytest.raises(SlowConsumer):
                await asyncio.wait_for(anext(slow), 5)
    finally:
        await broker.disconnect()


async def test_disconnect_ends_waiting_subscribers(url: str) -> None:
    broker = Broker(url)
    await broker.connect()
    async with broker.subscribe(CHANNEL) as events:
        waiting = asyncio.create_task(anext(events, "ended"))
        await asyncio.sleep(0.05)
        await broker.disconnect()
        assert await asyncio.wait_for(waiting, 5) == "ended"


async def test_redis_backend_resubscribes_after_redis_restarts(private_redis: PrivateRedis) -> None:
    broker = Broker(private_redis.url)
    await broker.connect()
    backend = broker.broadcast.backend
    assert isinstance(backend, ReconnectingBackend)
    try:
        async with broker.subscribe(CHANNEL) as events:
            await broker.publish(CHANNEL, {"n": 1})
            assert await take(events, 1) == [{"n": 1}]
            await asyncio.to_thread(private_redis.restart)
            await until(lambda: backend.connections_opened == 2, timeout=15)
            assert await upstream_subscribers(private_redis.url, CHANNEL) == 1
            await broker.publish(CHANNEL, {"n": 2})  # the publisher's pooled connection was broken too
            assert await take(events, 1) == [{"n": 2}]
    finally:
        await broker.disconnect()


async def test_postgres_backend_listens_again_after_its_connection_is_killed(settings: Settings) -> None:
    broker = Broker(settings.database_url)
    await broker.connect()
    backend = broker.broadcast.backend
    assert isinstance(backend, PostgresBackend)
    try:
        async with broker.subscribe(CHANNEL) as events:
            await broker.publish(CHANNEL, {"n": 1})
            assert await take(events, 1) == [{"n": 1}]
            killed = backend.listener_pid
            assert killed is not None
            admin = await asyncpg.connect(asyncpg_dsn(settings.database_url))
            try:  # only our own listener: its pid, checked to be ours by application name
                name = await admin.fetchval("SELECT application_name FROM pg_stat_activity WHERE pid = $1", killed)
                assert name == "portico-broadcast-listen"
                assert await admin.fetchval("SELECT pg_terminate_backend($1)", killed)
            finally:
                await admin.close()
            await until(lambda: backend.connections_opened == 2, timeout=15)
            assert backend.listener_pid not in (None, killed)
            await broker.publish(CHANNEL, {"n": 2})
            assert await take(events, 1) == [{"n": 2}]
    finally:
        await broker.disconnect()


async def test_postgres_backend_refuses_payloads_notify_would_truncate(settings: Settings) -> None:
    broker = Broker(settings.database_url)
    await broker.connect()
    try:
        with pytest.raises(ValueError):
            await broker.publish(CHANNEL, {"blob": "x" * 8000})
    finally:
        await broker.disconnect()


async def upstream_subscribers(url: str, channel: str) -> int:
    client = aioredis.Redis.from_url(url)
    try:
        return int(dict(await client.pubsub_numsub(channel))[channel.encode()])
    finally:
        await client.aclose()


async def until_async(read: Any, expected: Any, timeout: float = 5) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while (value := await read()) != expected:
        assert asyncio.get_running_loop().time() < deadline, value
        await asyncio.sleep(0.02)
