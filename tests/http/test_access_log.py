"""One access-log line per HTTP request: status, duration and, for a GraphQL request, its operation's name, type,
viewer kind, top-level error codes and which path answered; never a token, an email or a variable's value."""

from __future__ import annotations

import logging

import pytest

from tests.client import GraphQLClient
from tests.factories import Factory
from tests.subscriptions.conftest import Sessions

PLANNED = "query Invoices { invoices(first: 2) { edges { node { id number status total } } } }"
ADD = """mutation Add($input: AddCommentInput!) { addComment(input: $input) { __typename } }"""


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
