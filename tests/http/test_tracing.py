"""OpenTelemetry traces: a span per request named after its operation, resolver and SQL spans inside it, an
incoming traceparent continued, nothing of a variable's value, off and unwrapped without an endpoint; exported by
OTLP to a real HTTP receiver, with the trace id in the server's JSON log lines."""

from __future__ import annotations

import json
import threading
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import asyncpg
import httpx
import pytest
from httpx import AsyncClient
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from core.settings import Settings
from tests.client import GraphQLClient, own_app
from tests.factories import Factory
from tests.live import plain_uvicorn
from tests.subscriptions.conftest import Sessions

# normal execution (Invoice.activity is not in the planner's catalog): a root resolver and Invoice.activity
EXECUTED = "query Invoices { invoices(first: 2) { edges { node { id number activity { kind } } } } }"
PLANNED = "query Listed { invoices(first: 2) { edges { node { id number } } } }"
ADD = "mutation Add($input: AddCommentInput!) { addComment(input: $input) { __typename } }"
SECRET = "secret-body-7f3a"
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"


@pytest.fixture
async def traced(settings: Settings) -> AsyncIterator[tuple[InMemorySpanExporter, AsyncClient]]:
    exporter = InMemorySpanExporter()
    async with own_app(settings, span_exporter=exporter) as (_, client):
        yield exporter, client


def _descendants(spans: tuple[ReadableSpan, ...], root: ReadableSpan) -> list[ReadableSpan]:
    children: dict[int, list[ReadableSpan]] = {}
    for span in spans:
        if span.parent is not None:
            children.setdefault(span.parent.span_id, []).append(span)
    found, todo = [], [root.context.span_id]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child.context.span_id)
    return found


def _server_span(spans: tuple[ReadableSpan, ...], name: str) -> ReadableSpan:
    (span,) = [s for s in spans if s.kind == SpanKind.SERVER and s.name == name]
    return span


async def test_a_request_is_one_span_with_its_resolvers_and_statements_inside(
    traced: tuple[InMemorySpanExporter, AsyncClient], factory: Factory, sessions: Sessions
) -> None:
    exporter, client = traced
    gql = GraphQLClient(client)
    tenant = await factory.tenant()
    invoice = await factory.invoice(tenant.contact_a)
    token = await sessions.portal(tenant.person_a)
    # when a client of a traced caller runs a query by normal execution, a planned one and a mutation
    assert not (await gql.raw(EXECUTED, as_=token, traceparent=PARENT)).errors
    assert not (await gql.raw(PLANNED, as_=token)).errors
    assert not (await gql.raw(ADD, {"input": {"targetId": invoice.gid, "body": SECRET}}, as_=token)).errors
    spans = exporter.get_finished_spans()
    # then the executed query is a server span named after it, continuing the caller's trace
    executed = _server_span(spans, "query Invoices")
    assert format(executed.context.trace_id, "032x") == TRACE_ID
    assert executed.parent is not None and executed.parent.is_remote
    assert executed.attributes is not None
    assert executed.attributes["graphql.operation.name"] == "Invoices"
    assert executed.attributes["portico.answered_by"] == "executed"
    assert executed.attributes["http.response.status_code"] == 200
    assert executed.attributes["url.path"] == "/graphql"
    inside = _descendants(spans, executed)
    names = {span.name for span in inside}
    # with the resolvers that have code of their own (not plain attributes like Invoice.number) and the SQL
    assert {"Query.invoices", "Invoice.activity"} <= names and "Invoice.number" not in names
    statements = [span for span in inside if (span.attributes or {}).get("db.system") == "postgresql"]
    assert statements, names
    # the planned query and the mutation are spans of their own, in traces of their own
    planned = _server_span(spans, "query Listed")
    assert planned.attributes is not None and planned.attributes["portico.answered_by"] == "planned"
    assert any((s.attributes or {}).get("db.system") == "postgresql" for s in _descendants(spans, planned))
    mutation = _server_span(spans, "mutation Add")
    assert mutation.context.trace_id != executed.context.trace_id
    assert "Mutation.addComment" in {span.name for span in _descendants(spans, mutation)}
    # and no span says what the variables held
    for span in spans:
        assert SECRET not in json.dumps({**(span.attributes or {})}, default=str), span.name


async def test_without_an_endpoint_nothing_is_traced_or_wrapped(settings: Settings) -> None:
    assert not settings.otel_exporter_otlp_endpoint
    async with own_app(settings) as (_, client):
        assert not hasattr(asyncpg.connection.Connection.fetch, "__wrapped__")
        response = await client.post("/graphql", json={"query": "{ __typename }"})
        assert response.status_code == 200
    exporter = InMemorySpanExporter()
    async with own_app(settings, span_exporter=exporter):
        assert hasattr(asyncpg.connection.Connection.fetch, "__wrapped__")  # (on: asyncpg is wrapped)
    assert not hasattr(asyncpg.connection.Connection.fetch, "__wrapped__")  # (and unwrapped when the app stops)


class _Receiver(BaseHTTPRequestHandler):
    """An OTLP/HTTP endpoint: keeps each export request's spans."""

    received: list[ExportTraceServiceRequest] = []

    def do_POST(self) -> None:  # noqa: N802 (the stdlib's name)
        body = self.rfile.read(int(self.headers["content-length"]))
        if self.path == "/v1/traces" and self.headers["content-type"] == "application/x-protobuf":
            request = ExportTraceServiceRequest()
            request.ParseFromString(body)
            self.received.append(request)
        self.send_response(200)
        self.send_header("content-type", "application/x-protobuf")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[ExportTraceServiceRequest]]]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    _Receiver.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", _Receiver.received
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.slow
def test_a_server_exports_by_otlp_and_logs_the_trace_id(
    settings: Settings, receiver: tuple[str, list[ExportTraceServiceRequest]]
) -> None:
    endpoint, received = receiver
    with plain_uvicorn(settings, OTEL_EXPORTER_OTLP_ENDPOINT=endpoint, OTEL_SERVICE_NAME="portico-test") as (url, log):
        # when a traced caller sends a query
        answer = httpx.post(
            f"{url}/graphql",
            json={"query": "query Anonymous { invoices(first: 1) { totalCount } }"},
            headers={"traceparent": PARENT},
            timeout=10,
        )
        assert answer.status_code == 200
    output = log.text  # (stopped: the provider's shutdown sent what was batched)
    # then the receiver got its span by OTLP, from the named service, in the caller's trace
    spans = [
        (resource.resource, span)
        for request in received
        for resource in request.resource_spans
        for scope in resource.scope_spans
        for span in scope.spans
    ]
    named = [(resource, span) for resource, span in spans if span.name == "query Anonymous"]
    assert len(named) == 1, [span.name for _, span in spans]
    resource, span = named[0]
    assert span.trace_id.hex() == TRACE_ID
    service = {a.key: a.value.string_value for a in resource.attributes}["service.name"]
    assert service == "portico-test"
    # and the request's access-log line carries that trace id and the span's id
    records = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    (access,) = [r for r in records if r.get("logger") == "portico.access" and r.get("operation") == "Anonymous"]
    assert access["trace_id"] == TRACE_ID and access["span_id"] == span.span_id.hex()
