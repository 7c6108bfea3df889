"""The fan-out on a real uvicorn server writes one serialized frame to every socket of an audience: each socket still
gets each event once, with its own operation id, and a socket that closed gets nothing more."""

from __future__ import annotations

from typing import Any

import pytest

from core.settings import Settings
from subscriptions.events import encode, organization_channel
from tests.factories import Factory
from tests.live import running_server
from tests.subscriptions.conftest import PrivateRedis, Sessions
from tests.subscriptions.test_fields import STATUS, status_event
from tests.subscriptions.test_live import publisher
from tests.subscriptions.wsclient import Socket, live

pytestmark = pytest.mark.slow


async def nexts(socket: Socket, count: int) -> list[dict[str, Any]]:
    """The next ``count`` messages of ``socket``, each a ``next`` without errors."""
    messages = [await socket.receive(timeout=10) for _ in range(count)]
    assert all(m["type"] == "next" and "errors" not in m["payload"] for m in messages), messages
    return messages


async def test_one_frame_per_audience_keeps_each_sockets_operation_id_and_skips_a_closed_socket(
    private_redis: PrivateRedis, settings: Settings, factory: Factory, sessions: Sessions
) -> None:
    # given four staff sockets of one audience, one of them with two subscriptions (ids "1" and "2")
    tenant = await factory.tenant()
    estimates = [await factory.estimate(tenant.contact_a) for _ in range(3)]
    channel = organization_channel(tenant.org.pk)
    tokens = [await sessions.staff(tenant.owner) for _ in range(4)]
    with running_server(settings, BROADCAST_URL=private_redis.url) as base_url:
        async with (
            publisher(private_redis.url) as events,
            live(base_url, tokens[0]) as first,
            live(base_url, tokens[1]) as second,
            live(base_url, tokens[2]) as third,
            live(base_url, tokens[3]) as twice,
        ):
            for socket in (first, second, third, twice):
                await socket.subscribe(STATUS)
            await twice.subscribe(STATUS)
            await until_all_listen(events, channel, estimates[0], (first, second, third), twice)

            # when an event is published
            await events.publish(channel, encode(status_event(estimates[1], "SENT", "SENT")))

            # then every subscription gets it once, under its own id
            for socket in (first, second, third):
                (message,) = await nexts(socket, 1)
                assert message["id"] == "1"
                assert message["payload"]["data"]["documentStatusChanged"]["document"]["id"] == estimates[1].gid
            assert sorted(m["id"] for m in await nexts(twice, 2)) == ["1", "2"]

            # and once a socket closed, the next event reaches the others only, nothing more in between
            await third.ws.close()
            await events.publish(channel, encode(status_event(estimates[2], "SENT", "SENT")))
            for socket in (first, second):
                (message,) = await nexts(socket, 1)
                assert message["payload"]["data"]["documentStatusChanged"]["document"]["id"] == estimates[2].gid
                await socket.silent(0.3)
            assert sorted(m["id"] for m in await nexts(twice, 2)) == ["1", "2"]
            await twice.silent(0.3)


async def until_all_listen(events: Any, channel: str, probe: Any, sockets: tuple[Socket, ...], twice: Socket) -> None:
    """Probe until every subscription delivered one, then drain what the probes left (a subscription listens only
    once it is registered, and the protocol does not say when that is)."""
    pending = {id(s): 1 for s in sockets} | {id(twice): 2}
    for _ in range(40):
        await events.publish(channel, encode(status_event(probe, "SENT", "SENT")))
        for socket in (*sockets, twice):
            try:
                while pending[id(socket)] > 0:
                    await socket.receive(timeout=0.25)
                    pending[id(socket)] -= 1
            except TimeoutError:
                pass
        if not any(count > 0 for count in pending.values()):
            break
    assert not any(count > 0 for count in pending.values()), "the subscriptions never started listening"
    for socket in (*sockets, twice):
        try:
            while True:
                await socket.receive(timeout=0.5)
        except TimeoutError:
            pass
