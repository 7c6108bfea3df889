"""One access-log line per HTTP request: status, duration and, for a GraphQL request, its operation's name, type,
viewer kind, top-level error codes and which path answered; never a token, an email or a variable's value."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from tests.client import GraphQLClient
from tests.factories import Factory
from tests.subscriptions.conftest import Sessions
from tests.subscriptions.test_fields import subscribed
from tests.subscriptions.wsclient import in_process, until

PLANNED = "query Invoices { invoices(first: 2) { edges { node { id number status total } } } }"
ADD = """mutation Add($input: AddCommentInput!) { addComment(input: $input) { __typename } }"""
COMMENTS = "subscription Comments { commentAdded { body } }"


def _lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == "portico.access"]


async def test_each_request_is_one_line_with_its_operation_and_nothing_secret(
    gql: GraphQLClient, factory: Factory, sessions: Sessions, caplog: pytest.LogCaptureFixture
) -> None:
    # given a portal person with an invoice
    tenant = await factory.tenant()
    invoice = await factory.invoice(tenant.contact_a)
    token = await sessions.portal(tenant.person_a)
    secret_words = "my account number is 12345678"
    caplog.set_level(logging.INFO, logger="portico.access")
    # when they list invoices (the planner answers), comment (normal execution), and nobody asks for invoices
    await gql.raw(PLANNED, as_=token)
    await gql.raw(ADD, {"input": {"targetId": invoice.gid, "body": secret_words}}, as_=token)
    await gql.raw("{ invoices(first: 1) { totalCount } }")
    # then there is one line per request, each with its operation
    planned, added, anonymous = (record.__dict__ for record in _lines(caplog))
    assert {k: planned[k] for k in ("method", "path", "status", "operation", "operation_type", "viewer")} == {
        "method": "POST",
        "path": "/graphql",
        "status": 200,
        "operation": "Invoices",
        "operation_type": "query",
        "viewer": "portal",
    }
    assert (planned["answered_by"], planned["error_codes"]) == ("planned", [])
    assert isinstance(planned["duration_ms"], float)
    assert (added["operation"], added["operation_type"], added["answered_by"]) == ("Add", "mutation", "executed")
    assert (anonymous["viewer"], anonymous["error_codes"]) == (None, ["UNAUTHENTICATED"])
    # and no line holds the token, the person's email or a variable's value
    text = " ".join(repr(record.__dict__) for record in _lines(caplog))
    for secret in (token, tenant.person_a.email, secret_words):
        assert secret not in text


async def test_each_socket_operation_is_one_line_when_it_ends(
    app: Any, factory: Factory, sessions: Sessions, caplog: pytest.LogCaptureFixture
) -> None:
    # given a portal person's socket
    tenant = await factory.tenant()
    invoice = await factory.invoice(tenant.contact_a)
    token = await sessions.portal(tenant.person_a)
    secret_words = "the door code is 4321"
    caplog.set_level(logging.INFO, logger="portico.access")
    async with in_process(app, token) as socket:
        # when it runs a query, a mutation with a secret in its variables, a query that does not validate, and a
        # subscription it completes
        await socket.subscribe(PLANNED)
        assert [(await socket.receive())["type"] for _ in range(2)] == ["next", "complete"]
        await socket.subscribe(ADD, {"input": {"targetId": invoice.gid, "body": secret_words}})
        assert [(await socket.receive())["type"] for _ in range(2)] == ["next", "complete"]
        await socket.subscribe("query Broken { nothingHere }")
        assert (await socket.receive())["type"] == "error"
        streaming = await subscribed(socket, app.state.runtime.broker, tenant.org.pk, COMMENTS)
        await socket.complete(streaming)
        await until(lambda: len(_socket_lines(caplog)) == 4)
    # then each operation has its line, with its name, type, viewer, codes and how it ended
    lines = {record.__dict__["operation"]: record.__dict__ for record in _socket_lines(caplog)}
    assert set(lines) == {"Invoices", "Add", "Broken", "Comments"}
    invoices = lines["Invoices"]
    assert {k: invoices[k] for k in ("path", "operation_type", "viewer", "error_codes", "outcome")} == {
        "path": "/graphql",
        "operation_type": "query",
        "viewer": "portal",
        "error_codes": [],
        "outcome": "complete",
    }
    assert (lines["Add"]["operation_type"], lines["Add"]["outcome"]) == ("mutation", "complete")
    assert (lines["Broken"]["operation_type"], lines["Broken"]["outcome"]) == ("query", "complete")
    assert (lines["Comments"]["operation_type"], lines["Comments"]["outcome"]) == ("subscription", "cancelled")
    assert all(isinstance(line["duration_ms"], float) for line in lines.values())
    text = " ".join(repr(record.__dict__) for record in _socket_lines(caplog))
    for secret in (token, tenant.person_a.email, secret_words):
        assert secret not in text


def _socket_lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in _lines(caplog) if record.__dict__.get("transport") == "websocket"]
