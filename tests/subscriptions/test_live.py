"""Real servers, real sockets: authentication over TCP, the official graphql-ws client, and two app processes
sharing events through Redis and through PostgreSQL LISTEN/NOTIFY."""

from __future__ import annotations

import asyncio
import json
import shutil
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from httpx_ws import aconnect_ws

from core.settings import PROJECT_ROOT, Settings
from subscriptions.broker import Broker
from subscriptions.events import encode, organization_channel
from tests.factories import Factory, Row
from tests.live import running_server
from tests.subscriptions.conftest import PrivateRedis, Sessions
from tests.subscriptions.test_fields import STATUS, status_event
from tests.subscriptions.wsclient import Socket, live

pytestmark = pytest.mark.slow

SEND = """mutation($id: ID!) { sendEstimate(id: $id) { __typename ... on SendEstimateError { code } } }"""
NODE_CLIENT = PROJECT_ROOT / "tests" / "subscriptions" / "graphql_ws_client.mjs"


def ws_url(base_url: str) -> str:
    return base_url.replace("http", "ws", 1) + "/graphql"


@asynccontextmanager
async def publisher(url: str) -> AsyncIterator[Broker]:
    """A broker of the test process on the servers' backend: it publishes probes (and nothing else)."""
    broker = Broker(url)
    await broker.connect()
    try:
        yield broker
    finally:
        await broker.disconnect()


async def until_listening(
    receive: Callable[[float], Awaitable[Any]], probe: Callable[[], Awaitable[None]], timeout: float = 20
) -> None:
    """Publish probes until one arrives (the subscription listens now), then drain the probes still in flight.

    A message published before a subscription has registered is not delivered to it, and the protocol does not
    say when that happened; a probe that arrives does.
    """
    deadline = time.monotonic() + timeout
    while True:
        await probe()
        try:
            await receive(0.25)
            break
        except TimeoutError:
            assert time.monotonic() < deadline, "the subscription never started listening"
    while True:
        try:
            await receive(0.5)
        except TimeoutError:
            return


def send_estimate(base_url: str, token: str, estimate: Row) -> dict[str, Any]:
    response = httpx.post(
        f"{base_url}/graphql",
        json={"query": SEND, "variables": {"id": estimate.gid}},
        headers={"authorization": f"Bearer {token}"},
        timeout=10,
    )
    return response.json()["data"]["sendEstimate"]  # type: ignore[no-any-return]


async def test_websockets_authenticate_by_bearer_or_cookie_and_refuse_bad_tokens_with_4403(
    settings: Settings, factory: Factory, sessions: Sessions
) -> None:
    tenant = await factory.tenant()
    token = await sessions.portal(tenant.person_a)
    with running_server(settings) as base_url:
        async with live(base_url, token) as ws:
            await ws.ws.send_json({"type": "ping"})
            assert await ws.receive() == {"type": "pong"}
        async with httpx.AsyncClient(base_url=base_url, cookies={settings.session_cookie_name: token}) as client:
            async with aconnect_ws(ws_url(base_url), client, subprotocols=["graphql-transport-ws"]) as raw:
                cookie_socket = Socket(raw)
                assert (await cookie_socket.init(None))["type"] == "connection_ack"
        for bad in ("not-a-token", None):
            async with live(base_url) as ws:
                await ws.ws.send_json(
                    {"type": "connection_init", "payload": {"authorization": f"Bearer {bad}"} if bad else {}}
                )
                closed = await ws.closed()
                assert closed.code == 4403


@pytest.mark.parametrize("backend", ["redis", "postgres"])
async def test_a_mutation_on_one_app_process_reaches_a_subscriber_on_another(
    backend: str, request: pytest.FixtureRequest, settings: Settings, factory: Factory, sessions: Sessions
) -> None:
    url = request.getfixturevalue("private_redis").url if backend == "redis" else settings.database_url
    tenant = await factory.tenant()
    draft = await factory.estimate(tenant.contact_a, status="DRAFT")
    probe = await factory.estimate(tenant.contact_a)
    token = await sessions.staff(tenant.owner)
    channel = organization_channel(tenant.org.pk)
    with (
        running_server(settings, BROADCAST_URL=url) as process_a,
        running_server(settings, BROADCAST_URL=url) as process_b,
    ):
        async with publisher(url) as probes, live(process_b, token) as ws:
            await ws.subscribe(STATUS)
            await until_listening(
                lambda timeout: ws.next_data(timeout),
                lambda: probes.publish(channel, encode(status_event(probe, "SENT", "SENT"))),
            )
            assert await asyncio.to_thread(send_estimate, process_a, token, draft) == {"__typename": "Estimate"}
            event = (await ws.next_data(timeout=10))["documentStatusChanged"]
            assert event["document"]["id"] == draft.gid
            assert (event["previousStatus"], event["status"]) == ("DRAFT", "SENT")
            assert event["actor"]["__typename"] == "StaffUser"


async def test_a_subscriber_keeps_receiving_after_redis_restarts(
    private_redis: PrivateRedis, settings: Settings, factory: Factory, sessions: Sessions
) -> None:
    tenant = await factory.tenant()
    draft = await factory.estimate(tenant.contact_a, status="DRAFT")
    probe = await factory.estimate(tenant.contact_a)
    token = await sessions.staff(tenant.owner)
    channel = organization_channel(tenant.org.pk)
    with running_server(settings, BROADCAST_URL=private_redis.url) as base_url:
        async with live(base_url, token) as ws:
            await ws.subscribe(STATUS)
            async with publisher(private_redis.url) as probes:
                await until_listening(
                    lambda timeout: ws.next_data(timeout),
                    lambda: probes.publish(channel, encode(status_event(probe, "SENT", "SENT"))),
                )
            await asyncio.to_thread(private_redis.restart)
            async with publisher(private_redis.url) as probes:  # the server resubscribed: probes arrive again
                await until_listening(
                    lambda timeout: ws.next_data(timeout),
                    lambda: probes.publish(channel, encode(status_event(probe, "SENT", "SENT"))),
                )
            assert await asyncio.to_thread(send_estimate, base_url, token, draft) == {"__typename": "Estimate"}
            assert (await ws.next_data(timeout=10))["documentStatusChanged"]["document"]["id"] == draft.gid


class NodeClient:
    """tests/subscriptions/graphql_ws_client.mjs running in Node, its JSON lines read as they come."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    async def line(self, timeout: float) -> dict[str, Any]:
        assert self.process.stdout is not None
        raw = await asyncio.wait_for(self.process.stdout.readline(), timeout)
        if not raw:
            stderr = await self.process.stderr.read() if self.process.stderr else b""
            raise AssertionError(f"the graphql-ws client exited: {stderr.decode()}")
        return json.loads(raw)  # type: ignore[no-any-return]

    async def next_result(self, timeout: float) -> dict[str, Any]:
        while True:
            message = await self.line(timeout)
            if message["event"] == "next":
                return message["result"]  # type: ignore[no-any-return]
            assert message["event"] in ("connected", "ping"), message


@asynccontextmanager
async def node_client(url: str, token: str, query: str) -> AsyncIterator[NodeClient]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js is not installed")
    process = await asyncio.create_subprocess_exec(
        node,
        str(NODE_CLIENT),
        url,
        token,
        query,
        cwd=PROJECT_ROOT,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        yield NodeClient(process)
    finally:
        if process.returncode is None:
            process.kill()
        await process.wait()


async def test_the_official_graphql_ws_client_subscribes_and_receives_events(
    private_redis: PrivateRedis, settings: Settings, factory: Factory, sessions: Sessions
) -> None:
    tenant = await factory.tenant()
    draft = await factory.estimate(tenant.contact_a, status="DRAFT")
    probe = await factory.estimate(tenant.contact_a)
    staff_token = await sessions.staff(tenant.owner)
    portal_token = await sessions.portal(tenant.person_a)
    channel = organization_channel(tenant.org.pk)
    with running_server(settings, BROADCAST_URL=private_redis.url) as base_url:
        async with (
            node_client(ws_url(base_url), portal_token, STATUS) as client,
            publisher(private_redis.url) as probes,
        ):
            await until_listening(
                client.next_result, lambda: probes.publish(channel, encode(status_event(probe, "SENT", "SENT")))
            )
            assert await asyncio.to_thread(send_estimate, base_url, staff_token, draft) == {"__typename": "Estimate"}
            result = await client.next_result(10)
            assert result["data"]["documentStatusChanged"]["document"]["id"] == draft.gid
            assert result["data"]["documentStatusChanged"]["actor"] is None  # staff are not visible in the portal
        async with node_client(ws_url(base_url), "not-a-token", STATUS) as client:
            while (message := await client.line(10))["event"] != "closed":
                pass
            assert message["code"] == 4403
