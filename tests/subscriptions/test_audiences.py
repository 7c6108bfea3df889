"""The fan-out (subscriptions.audiences): one answer per audience, each socket with its own operation id, a portal
subscriber never in a staff audience, a broken or stuck socket never holding up the others."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from prometheus_client import REGISTRY

from core.websocket import MAX_PENDING_FRAMES, TextFrameWebSocketAdapter
from subscriptions.audiences import Audiences
from subscriptions.broker import Broker
from subscriptions.events import CommentAdded, encode, organization_channel
from subscriptions.streams import CLOSE_SLOW_CONSUMER
from tests.factories import Factory
from tests.subscriptions.conftest import Emitter, Sessions
from tests.subscriptions.test_fields import COMMENTS, STATUS, status_event, subscribed
from tests.subscriptions.test_protocol import StuckClient, raw_scope
from tests.subscriptions.wsclient import Socket, in_process, until

NUMBERS = """subscription { documentStatusChanged { document { id number } status } }"""


@pytest.fixture
def executions(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The operation id of the feed each audience's answer was executed for, in order."""
    seen: list[str] = []
    execute = Audiences._execute

    async def counted(self: Audiences, feed: Any, value: Any) -> str | None:
        seen.append(feed.operation_id)
        return await execute(self, feed, value)

    monkeypatch.setattr(Audiences, "_execute", counted)
    return seen


async def next_message(ws: Socket) -> dict[str, Any]:
    message = await ws.receive()
    assert message["type"] == "next", message
    return message


async def test_one_execution_per_audience_and_each_socket_gets_it_with_its_own_operation_id(
    app: Any, factory: Factory, sessions: Sessions, broker: Broker, emitted: Emitter, executions: list[str]
) -> None:
    tenant = await factory.tenant()
    estimate = await factory.estimate(tenant.contact_a)
    async with (
        in_process(app, await sessions.staff(tenant.owner)) as first,
        in_process(app, await sessions.staff(tenant.owner)) as second,
        in_process(app, await sessions.staff(tenant.owner)) as other_document,
        in_process(app, await sessions.portal(tenant.person_a)) as portal,
    ):
        await subscribed(first, broker, tenant.org.pk, STATUS)
        await subscribed(second, broker, tenant.org.pk, NUMBERS)  # op "1" on this socket: a document of its own
        await subscribed(second, broker, tenant.org.pk, STATUS)  # op "2": the first socket's document
        await subscribed(other_document, broker, tenant.org.pk, NUMBERS)
        await subscribed(portal, broker, tenant.org.pk, STATUS)
        await emitted(tenant.org.pk, status_event(estimate, "SENT", "ACCEPTED"))
        staff_answer = await next_message(first)
        from_second = {m["id"]: m for m in [await next_message(second), await next_message(second)]}
        numbers, portal_answer = await next_message(other_document), await next_message(portal)
    # staff with STATUS, staff with NUMBERS, the portal user with STATUS: three audiences, three executions
    assert len(executions) == 3
    assert (staff_answer["id"], set(from_second), numbers["id"], portal_answer["id"]) == ("1", {"1", "2"}, "1", "1")
    assert from_second["2"]["payload"] == staff_answer["payload"]
    assert from_second["1"]["payload"] == numbers["payload"] != staff_answer["payload"]
    assert portal_answer["payload"]["data"]["documentStatusChanged"]["document"]["id"] == estimate.gid


async def test_a_portal_subscriber_never_gets_the_staff_audiences_answer(
    app: Any, factory: Factory, sessions: Sessions, broker: Broker, emitted: Emitter, executions: list[str]
) -> None:
    tenant = await factory.tenant()
    estimate = await factory.estimate(tenant.contact_a)
    hidden = await factory.comment(estimate, staff=tenant.owner, visible=False, body="staff only")
    shown = await factory.comment(estimate, staff=tenant.owner, visible=True, body="for the client")
    async with (
        in_process(app, await sessions.staff(tenant.owner)) as staff,
        in_process(app, await sessions.portal(tenant.person_a)) as portal,
    ):
        await subscribed(staff, broker, tenant.org.pk, COMMENTS)
        await subscribed(portal, broker, tenant.org.pk, COMMENTS)  # the same document and variables
        await emitted(tenant.org.pk, CommentAdded(hidden.pk, tenant.contact_a.pk))
        assert (await staff.next_data())["commentAdded"]["body"] == "staff only"
        await emitted(tenant.org.pk, CommentAdded(shown.pk, tenant.contact_a.pk))
        assert (await staff.next_data())["commentAdded"]["body"] == "for the client"
        assert (await portal.next_data())["commentAdded"]["body"] == "for the client"  # not the hidden one first
        await portal.silent()
    assert len(executions) == 3  # the hidden comment: staff only; the shown one: staff, then portal


async def test_a_socket_that_breaks_mid_fan_out_does_not_stop_the_others(
    app: Any,
    factory: Factory,
    sessions: Sessions,
    broker: Broker,
    emitted: Emitter,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tenant = await factory.tenant()
    estimate = await factory.estimate(tenant.contact_a)
    push = TextFrameWebSocketAdapter.push
    broken: list[TextFrameWebSocketAdapter] = []

    def push_breaking_the_first(self: TextFrameWebSocketAdapter, text: str) -> bool | None:
        if not broken or broken[0] is self:
            broken[:1] = [self]
            raise ConnectionResetError("the socket broke")
        return push(self, text)

    monkeypatch.setattr(TextFrameWebSocketAdapter, "push", push_breaking_the_first)
    sockets = [in_process(app, await sessions.staff(tenant.owner)) for _ in range(3)]
    opened = [await socket.__aenter__() for socket in sockets]
    try:
        for ws in opened:
            await subscribed(ws, broker, tenant.org.pk, STATUS)
        await emitted(tenant.org.pk, status_event(estimate, "SENT", "ACCEPTED"))
        answered = 0
        for ws in opened:
            try:
                await ws.next_data(timeout=1)
                answered += 1
            except TimeoutError:
                pass
        assert (answered, len(broken)) == (2, 1)
    finally:
        for socket in reversed(sockets):
            await socket.__aexit__(None, None, None)


async def test_a_socket_that_stops_reading_is_closed_with_1013_and_the_others_get_every_event(
    app: Any, factory: Factory, sessions: Sessions, broker: Broker
) -> None:
    tenant = await factory.tenant()
    estimate = await factory.estimate(tenant.contact_a)
    channel = organization_channel(tenant.org.pk)
    stuck = StuckClient()
    stuck.inbound.put_nowait({"type": "websocket.connect"})
    server = asyncio.create_task(app(raw_scope(), stuck.receive, stuck.send))
    try:
        token = await sessions.staff(tenant.owner)
        stuck.client_says({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}})
        await until(lambda: stuck.server_said("connection_ack") != [])
        stuck.client_says({"id": "1", "type": "subscribe", "payload": {"query": STATUS}})
        await until(lambda: broker.subscriber_count(channel) == 1)
        async with in_process(app, await sessions.staff(tenant.owner)) as healthy:
            await subscribed(healthy, broker, tenant.org.pk, STATUS)
            hub: Audiences = broker.audiences  # type: ignore[assignment]
            dropped, listeners_dropped = hub.dropped_slow, broker.broadcast.dropped_subscribers
            counted = REGISTRY.get_sample_value("portico_events_dropped_total", {"reader": "socket"}) or 0
            event = encode(status_event(estimate, "SENT", "ACCEPTED"))
            # the first frame blocks in send; MAX_PENDING_FRAMES wait behind it; the next one finds it backed up
            for _ in range(MAX_PENDING_FRAMES + 2):
                await broker.publish(channel, event)
                await healthy.next_data()  # the healthy socket is never held up
            assert hub.dropped_slow == dropped + 1
            assert REGISTRY.get_sample_value("portico_events_dropped_total", {"reader": "socket"}) == counted + 1
            assert broker.broadcast.dropped_subscribers == listeners_dropped  # the fan-out itself kept up
            stuck.reading.set()  # the client reads again: it learns why it was dropped
            await until(lambda: any(m["type"] == "websocket.close" for m in stuck.sent))
            close = next(m for m in stuck.sent if m["type"] == "websocket.close")
            assert close["code"] == CLOSE_SLOW_CONSUMER
            await broker.publish(channel, event)
            await healthy.next_data()
            assert len(stuck.server_said("next")) <= MAX_PENDING_FRAMES + 1  # nothing more was written to it
    finally:
        stuck.inbound.put_nowait({"type": "websocket.disconnect", "code": 1000})
        await asyncio.wait_for(server, 5)
