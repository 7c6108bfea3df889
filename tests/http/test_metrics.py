"""Prometheus metrics: served only when METRICS_ENABLED is on, and each family moves with real traffic."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from httpx import AsyncClient
from prometheus_client.parser import text_string_to_metric_families

from core.settings import Settings
from tests.client import GraphQLClient, own_app
from tests.factories import Factory
from tests.subscriptions.conftest import Sessions
from tests.subscriptions.test_fields import subscribed
from tests.subscriptions.wsclient import in_process

PLANNED = "query Invoices { invoices(first: 2) { edges { node { id number } } } }"
ADD = "mutation Add($input: AddCommentInput!) { addComment(input: $input) { __typename } }"
COMMENTS = "subscription { commentAdded { body } }"


@pytest.fixture
async def measured(settings: Settings) -> AsyncIterator[tuple[Any, AsyncClient]]:
    async with own_app(settings.model_copy(update={"metrics_enabled": True})) as running:
        yield running


async def _scrape(client: AsyncClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = await client.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


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
    # when a client lists invoices and comments (an event to their own subscription, and a staff mail), and an
    # anonymous query is refused, while the client's socket is open
    async with in_process(application, token) as socket:
        await subscribed(socket, application.state.runtime.broker, tenant.org.pk, COMMENTS)
        during = await _scrape(client)
        await gql.raw(PLANNED, as_=token)
        await gql.raw(ADD, {"input": {"targetId": invoice.gid, "body": "Thanks"}}, as_=token)
        await gql.raw("{ invoices(first: 1) { totalCount } }")
        assert (await socket.next_data())["commentAdded"]["body"] == "Thanks"
    after = await _scrape(client)
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
    assert _value(after, "portico_outbox_pending") >= 1
    assert _value(after, "portico_db_pool_connections", state="idle") >= 1
