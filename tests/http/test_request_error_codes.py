"""Every request error carries an `extensions.code` a client can switch on, over HTTP and over a websocket: parse,
validation, variables, each limit, persisted documents, the request itself; README lists each code."""

from __future__ import annotations

from typing import Any

import pytest
from httpx import AsyncClient
from httpx_ws import WebSocketDisconnect

from core.settings import PROJECT_ROOT, Settings
from tests.client import own_app
from tests.factories import Factory
from tests.subscriptions.conftest import Sessions
from tests.subscriptions.wsclient import in_process

DEEP = "{ invoices(first: 1) { edges { node { " + "contact { " * 12 + "id" + " }" * 12 + " } } } }"
COUNT = "query($first: Int!) { invoices(first: $first) { totalCount } }"
# (name, POST body, code): one of each kind of refusal before (or instead of) execution
KINDS: list[tuple[str, dict[str, Any], str]] = [
    ("syntax", {"query": "{ invoices("}, "GRAPHQL_PARSE_FAILED"),
    ("unknown field", {"query": "{ nothingHere }"}, "GRAPHQL_VALIDATION_FAILED"),
    ("unknown argument", {"query": "{ invoices(wrong: 1) { totalCount } }"}, "GRAPHQL_VALIDATION_FAILED"),
    ("unused variable", {"query": "query($x: Int) { __typename }"}, "GRAPHQL_VALIDATION_FAILED"),
    ("variable of the wrong type", {"query": COUNT, "variables": {"first": "ten"}}, "BAD_USER_INPUT"),
    ("variable missing", {"query": COUNT}, "BAD_USER_INPUT"),
    ("too deep", {"query": DEEP}, "QUERY_TOO_COMPLEX"),
    (
        "too many aliases",
        {"query": "{ " + " ".join(f"a{i}: __typename" for i in range(31)) + " }"},
        "QUERY_TOO_COMPLEX",
    ),
    ("too many tokens", {"query": "{ " + "__typename " * 2001 + "}"}, "QUERY_TOO_COMPLEX"),
    (
        "too costly",
        {"query": "{ invoices(first: 100) { edges { node { lineItems { description } } } } }"},
        "QUERY_TOO_COMPLEX",
    ),
    ("unknown document", {"documentId": "sha256:" + "0" * 64}, "PERSISTED_QUERY_NOT_FOUND"),
    ("unknown operation name", {"query": "query A { __typename }", "operationName": "B"}, "BAD_REQUEST"),
    ("two operations, no name", {"query": "query A { __typename } query B { __typename }"}, "BAD_REQUEST"),
    ("no query", {}, "BAD_REQUEST"),
]


@pytest.fixture
async def strict(settings: Settings) -> Any:
    async with own_app(settings.model_copy(update={"max_query_cost": 500})) as (app, client):
        yield app, client


@pytest.mark.parametrize(("kind", "body", "code"), KINDS, ids=[kind for kind, _, _ in KINDS])
async def test_each_request_error_has_its_code_over_http(
    strict: Any, factory: Factory, sessions: Sessions, kind: str, body: dict[str, Any], code: str
) -> None:
    _, client = strict
    tenant = await factory.tenant()
    token = await sessions.staff(tenant.owner)
    response = await client.post(
        "/graphql", json=body, headers={"authorization": f"Bearer {token}", "accept": "application/json"}
    )
    errors = response.json()["errors"]
    assert errors and all((e.get("extensions") or {}).get("code") for e in errors), errors
    assert code in [e["extensions"]["code"] for e in errors], errors


async def test_a_mutation_over_get_has_its_code(http: AsyncClient) -> None:
    response = await http.get(
        "/graphql", params={"query": "mutation { logout }"}, headers={"accept": "application/json"}
    )
    assert (response.status_code, response.json()["errors"][0]["extensions"]["code"]) == (405, "METHOD_NOT_ALLOWED")


async def test_each_request_error_has_its_code_over_a_websocket(
    strict: Any, factory: Factory, sessions: Sessions
) -> None:
    app, _ = strict
    tenant = await factory.tenant()
    async with in_process(app, await sessions.staff(tenant.owner)) as socket:
        for kind, body, code in KINDS:
            if (
                "query" not in body
                or "operationName" in body
                or code == "GRAPHQL_PARSE_FAILED"
                or kind == "too many tokens"
            ):
                continue  # (a subscribe message names its document; a syntax error closes the socket: below)
            await socket.subscribe(body["query"], body.get("variables"))
            message = await socket.receive()
            assert message["type"] in ("error", "next"), (kind, message)
            errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
            assert code in [(e.get("extensions") or {}).get("code") for e in errors], (kind, errors)
            if message["type"] == "next":
                assert (await socket.receive())["type"] == "complete"


def test_the_readme_lists_every_code() -> None:
    readme = (PROJECT_ROOT / "README.md").read_text()
    for code in {code for _, _, code in KINDS} | {"METHOD_NOT_ALLOWED", "PERSISTED_QUERY_REQUIRED"}:
        assert f"`{code}`" in readme, code


async def test_a_document_that_does_not_parse_closes_the_socket_with_4400_and_says_why(
    app: Any, factory: Factory, sessions: Sessions
) -> None:
    tenant = await factory.tenant()
    closed: list[tuple[int, str]] = []
    try:  # (graphql-transport-ws: a malformed subscribe closes the socket, 4400 with the reason; Strawberry's rule)
        async with in_process(app, await sessions.staff(tenant.owner)) as socket:
            await socket.subscribe("{ invoices(")
            await socket.receive()
    except* WebSocketDisconnect as refused:
        closed = [(error.code, error.reason) for error in _leaves(refused)]
    assert closed == [(4400, "Syntax Error: Expected Name, found <EOF>.")]


def _leaves(group: BaseExceptionGroup[Any]) -> list[Any]:
    return [
        leaf
        for error in group.exceptions
        for leaf in (_leaves(error) if isinstance(error, BaseExceptionGroup) else [error])
    ]


async def test_several_operations_run_the_one_named(http: AsyncClient) -> None:
    body = {"query": "query A { __typename } query B { b: __typename }", "operationName": "B"}
    response = await http.post("/graphql", json=body, headers={"accept": "application/json"})
    assert response.json() == {"data": {"b": "Query"}}
