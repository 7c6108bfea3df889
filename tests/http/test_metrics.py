"""Prometheus metrics: served only when METRICS_ENABLED is on, and each family moves with real traffic."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
from httpx import AsyncClient
from prometheus_client import multiprocess
from prometheus_client.parser import text_string_to_metric_families

from core.settings import Settings
from tests.client import GraphQLClient, own_app
from tests.factories import Factory
from tests.live import free_port, running_server
from tests.pay.conftest import pay, pay_input
from tests.subscriptions.conftest import Sessions
from tests.subscriptions.test_fields import subscribed
from tests.subscriptions.wsclient import in_process

PLANNED = "query Invoices { invoices(first: 2) { edges { node { id number } } } }"
ADD = "mutation Add($input: AddCommentInput!) { addComment(input: $input) { __typename } }"
COMMENTS = "subscription { commentAdded { body } }"
# more than the session's whole burst (below; it costs 1,302): refused at once, TOO_MANY_REQUESTS
COSTLY = "query Costly { invoices(first: 100) { edges { node { id lineItems { description } } } } }"
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


@pytest.fixture
async def measured(settings: Settings, tmp_path: Path) -> AsyncIterator[tuple[Any, AsyncClient]]:
    # its outbox worker delivers (to a folder: the transport without SMTP)
    update = {"metrics_enabled": True, "rate_limit_session_burst": 500, "mail_worker": True, "outbox_dir": tmp_path}
    async with own_app(settings.model_copy(update=update)) as running:
        yield running


def _parsed(response: httpx.Response) -> Samples:
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


async def _scrape(client: AsyncClient) -> Samples:
    return _parsed(await client.get("/metrics"))


def _value(samples: dict[Any, float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_metrics_are_not_served_unless_turned_on(http: AsyncClient) -> None:
    assert (await http.get("/metrics")).status_code == 404


async def test_each_family_moves_with_traffic(
    measured: tuple[Any, AsyncClient], factory: Factory, sessions: Sessions
) -> None:
    application, client = measured
    gql = GraphQLClient(client)
    tenant = await factory.tenant()
    invoice = await factory.invoice(tenant.contact_a)
    token = await sessions.portal(tenant.person_a)
    before = await _scrape(client)
    # when a client lists invoices and comments (an event to their own subscription, and a staff mail), pays
    # another invoice, asks more than its budget allows, and an anonymous query is refused, while its socket is open
    async with in_process(application, token) as socket:
        await subscribed(socket, application.state.runtime.broker, tenant.org.pk, COMMENTS)
        during = await _scrape(client)
        await gql.raw(PLANNED, as_=token)
        await gql.raw(ADD, {"input": {"targetId": invoice.gid, "body": "Thanks"}}, as_=token)
        paid = await pay(gql, pay_input([await factory.invoice(tenant.contact_a)], simulated=""), token)
        costly = await gql.raw(COSTLY, as_=token)
        await gql.raw("{ invoices(first: 1) { totalCount } }")
        assert (await socket.next_data())["commentAdded"]["body"] == "Thanks"
    assert paid["status"] == "SUCCEEDED" and costly.errors[0]["extensions"]["code"] == "TOO_MANY_REQUESTS"
    sent = "portico_outbox_mails_total"
    after: Samples = {}

    async def mail_sent() -> bool:
        nonlocal after
        after = await _scrape(client)
        return _value(after, sent, outcome="sent") > _value(before, sent, outcome="sent")

    for _ in range(100):  # (the outbox worker delivers the staff's mail about the comment)
        if await mail_sent():
            break
        await asyncio.sleep(0.05)
    # then the request counters and latency moved per operation and outcome
    requests = "portico_requests_total"
    assert _value(after, requests, operation="Invoices", type="query", outcome="ok") == 1 + _value(
        before, requests, operation="Invoices", type="query", outcome="ok"
    )
    assert _value(after, requests, operation="Add", type="mutation", outcome="ok") >= 1
    assert _value(after, requests, operation="anonymous", type="query", outcome="UNAUTHENTICATED") >= 1
    assert _value(after, "portico_request_duration_seconds_count", operation="Add") >= 1
    # the socket was counted while open, the comment's event published, its staff mail waits in the outbox
    assert _value(during, "portico_open_sockets") == _value(before, "portico_open_sockets") + 1
    assert _value(after, "portico_events_published_total") > _value(before, "portico_events_published_total")
    assert _value(after, "portico_events_delivered_total") > _value(before, "portico_events_delivered_total")
    assert _value(after, "portico_db_pool_connections", state="idle") >= 1
    # the subscription was counted by its field while it streamed
    assert _value(during, "portico_subscriptions", field="commentAdded") == 1 + _value(
        before, "portico_subscriptions", field="commentAdded"
    )
    assert _value(after, "portico_subscriptions", field="commentAdded") == _value(
        before, "portico_subscriptions", field="commentAdded"
    )
    # the mails were queued and sent, the payment's attempt counted at each status, the refusal by its throttle
    assert _value(after, sent, outcome="queued") > _value(before, sent, outcome="queued")
    assert _value(after, sent, outcome="sent") > _value(before, sent, outcome="sent")
    for status in ("CREATED", "SUCCEEDED"):
        attempts = "portico_payment_attempts_total"
        assert _value(after, attempts, status=status) == 1 + _value(before, attempts, status=status)
    throttled = "portico_throttled_total"
    assert _value(after, throttled, limit="requests") == 1 + _value(before, throttled, limit="requests")


async def test_the_outbox_backlog_is_sampled(settings: Settings, factory: Factory, sessions: Sessions) -> None:
    tenant = await factory.tenant()
    invoice = await factory.invoice(tenant.contact_a)
    token = await sessions.portal(tenant.person_a)
    async with own_app(settings.model_copy(update={"metrics_enabled": True})) as (_, client):  # (no mail worker)
        await GraphQLClient(client).raw(ADD, {"input": {"targetId": invoice.gid, "body": "Waiting"}}, as_=token)
        samples = await _scrape(client)
    assert _value(samples, "portico_outbox_pending") >= 1
    assert _value(samples, "portico_outbox_oldest_pending_seconds") >= 0


async def test_requests_waiting_for_a_connection_are_counted(settings: Settings, factory: Factory) -> None:
    tenant = await factory.tenant()
    async with own_app(settings.model_copy(update={"metrics_enabled": True, "db_pool_size": 2})) as (app, client):
        sessions = Sessions(app.state.runtime.db, app.state.runtime.settings)
        token = await sessions.portal(tenant.person_a)
        gql = GraphQLClient(client)
        async with AsyncExitStack() as held:
            for _ in range(2):  # every connection of the pool taken
                await held.enter_async_context(app.state.runtime.db.engine.connect())
            waiting = asyncio.create_task(gql.raw(PLANNED, as_=token))
            # then a scrape still answers (the outbox's sample gives up), and shows the request waiting
            samples = await _scrape(client)
            assert _value(samples, "portico_db_pool_connections", state="waiting") == 1
            assert _value(samples, "portico_db_pool_connections", state="in_use") == 2
            assert not waiting.done()
        assert not (await waiting).errors  # (answered once a connection came back)
        assert _value(await _scrape(client), "portico_db_pool_connections", state="waiting") == 0


def _answering_processes(directory: Path) -> int:
    """How many processes' files of the multiprocess directory count a Probe request."""
    answered = 0
    for path in directory.glob("counter_*.db"):
        for metric in multiprocess.MultiProcessCollector.merge([str(path)]):
            if any(s.name == "portico_requests_total" and s.labels.get("operation") == "Probe" for s in metric.samples):
                answered += 1
                break
    return answered


@pytest.mark.slow
def test_several_workers_are_counted_together_on_the_metrics_port(settings: Settings, tmp_path: Path) -> None:
    # given `app.py serve` with two worker processes, metrics on a port of their own and a multiprocess directory
    metrics_port = free_port()
    env = {
        "METRICS_ENABLED": "true",
        "METRICS_PORT": str(metrics_port),
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
    }
    stale = tmp_path / "counter_1.db"  # a previous run's file: `app.py serve` empties the directory first
    stale.write_bytes(b"not a counter")
    with running_server(settings, workers=2, **env) as base_url:
        assert not stale.exists()
        scrape_url = f"http://127.0.0.1:{metrics_port}/metrics"
        # the API's port does not serve them
        assert httpx.get(f"{base_url}/metrics").status_code == 404
        sent = 0
        with httpx.Client(base_url=base_url, limits=httpx.Limits(max_keepalive_connections=0)) as client:
            for _ in range(20):  # new connections until both workers have answered some
                for _ in range(10):
                    client.post("/graphql", json={"query": "query Probe { __typename }"})
                    sent += 1
                if _answering_processes(tmp_path) >= 2:
                    break
        assert _answering_processes(tmp_path) == 2, "one worker answered every request"
        # then a scrape (whichever worker it reaches) counts the requests of both
        for _ in range(4):
            samples = _parsed(httpx.get(scrape_url))
            probes = sum(
                value
                for (name, labels), value in samples.items()
                if name == "portico_requests_total" and ("operation", "Probe") in labels
            )
            assert probes == sent
