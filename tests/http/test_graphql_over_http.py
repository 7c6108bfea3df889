"""GraphQL over HTTP: GET for queries, Accept negotiation, status codes, JSON errors, and graphql-http's audit."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from httpx import AsyncClient
from httpx_ws import WebSocketDisconnect, connect_ws

from core.media import APPLICATION_JSON, GRAPHQL_RESPONSE_JSON, negotiate_media_type
from tests.factories import PASSWORD, Factory
from tests.http.conftest import require_node_package, run_node

HERE = Path(__file__).parent
NEW = {"accept": GRAPHQL_RESPONSE_JSON}
LEGACY = {"accept": APPLICATION_JSON}


def error_codes(body: dict[str, Any]) -> list[str | None]:
    return [(error.get("extensions") or {}).get("code") for error in body.get("errors") or []]


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, APPLICATION_JSON),
        ("", APPLICATION_JSON),
        ("*/*", APPLICATION_JSON),
        ("application/*", APPLICATION_JSON),
        ("application/json", APPLICATION_JSON),
        ("application/graphql-response+json", GRAPHQL_RESPONSE_JSON),
        ("application/json, application/graphql-response+json", GRAPHQL_RESPONSE_JSON),
        ("application/graphql-response+json;charset=utf-8, application/json;q=0.9", GRAPHQL_RESPONSE_JSON),
        ("application/graphql-response+json;q=0.5, application/json", APPLICATION_JSON),
        ("application/json, */*;q=0.5", APPLICATION_JSON),
        ("application/json;q=0.9, */*", GRAPHQL_RESPONSE_JSON),  # q-values win over specificity
        ("application/graphql-response+json, */*;q=0.1", GRAPHQL_RESPONSE_JSON),
        ("application/json;q=0, application/graphql-response+json;q=0.1", GRAPHQL_RESPONSE_JSON),
        ("application/json, multipart/mixed", APPLICATION_JSON),  # GraphiQL's fetcher
        ("text/html", APPLICATION_JSON),  # nothing acceptable: the spec lets us answer with the default
        ("application/graphql-response+json;q=bogus, application/json", APPLICATION_JSON),
    ],
)
def test_accept_negotiation(accept: str | None, expected: str) -> None:
    assert negotiate_media_type(accept) == expected


async def test_get_runs_a_query(http: AsyncClient) -> None:
    # given a query in the URL  # when it is sent over GET asking for the new media type
    response = await http.get("/graphql", params={"query": "{ __typename }"}, headers=NEW)
    # then it runs, answered in that media type
    assert response.status_code == 200
    assert response.headers["content-type"] == GRAPHQL_RESPONSE_JSON
    assert response.json() == {"data": {"__typename": "Query"}}
    assert "accept" in response.headers["vary"].lower()


async def test_get_with_variables(http: AsyncClient) -> None:
    query = "query Type($name: String!) { __type(name: $name) { name } }"
    params = {"query": query, "variables": json.dumps({"name": "Query"})}
    response = await http.get("/graphql", params=params, headers=LEGACY)
    assert response.status_code == 200
    assert response.headers["content-type"] == APPLICATION_JSON
    assert response.json() == {"data": {"__type": {"name": "Query"}}}


@pytest.mark.parametrize("headers", [NEW, LEGACY, {}])
async def test_mutation_over_get_is_405_with_allow_post(http: AsyncClient, headers: dict[str, str]) -> None:
    # given a mutation  # when it is sent over GET
    response = await http.get("/graphql", params={"query": "mutation { logout }"}, headers=headers)
    # then it is refused as a method error, in JSON, and never executed
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.headers["content-type"] == negotiate_media_type(headers.get("accept"))
    body = response.json()
    assert error_codes(body) == ["METHOD_NOT_ALLOWED"]
    assert "data" not in body
    assert "accept" in response.headers["vary"].lower()


@pytest.mark.parametrize("query", ["{", "{ noSuchField }", "query { __typename } query { __typename }"])
async def test_request_errors_are_400_without_data_for_graphql_response_json(http: AsyncClient, query: str) -> None:
    # given a document that does not parse or does not validate  # when the client asks for the new media type
    response = await http.post("/graphql", json={"query": query}, headers=NEW)
    # then it is a 400 without a data entry
    assert response.status_code == 400
    assert response.headers["content-type"] == GRAPHQL_RESPONSE_JSON
    body = response.json()
    assert "data" not in body
    assert body["errors"]


@pytest.mark.parametrize("query", ["{", "{ noSuchField }"])
async def test_request_errors_stay_200_for_application_json(http: AsyncClient, query: str) -> None:
    # given the same broken documents  # when the client asks for application/json
    response = await http.post("/graphql", json={"query": query}, headers=LEGACY)
    # then the legacy behaviour holds: 200 with the errors
    assert response.status_code == 200
    assert response.headers["content-type"] == APPLICATION_JSON
    assert response.json()["errors"]
    assert "accept" in response.headers["vary"].lower()


@pytest.mark.parametrize(("headers", "status"), [(NEW, 400), (LEGACY, 200)])
async def test_variable_coercion_errors_stay_visible(http: AsyncClient, headers: dict[str, str], status: int) -> None:
    # given a required variable sent as null
    payload = {"query": "query Coerce($id: ID!) { node(id: $id) { id } }", "variables": {"id": None}}
    # when it is posted
    response = await http.post("/graphql", json=payload, headers=headers)
    # then the status follows the media type and the coercion error is not masked as an internal error
    assert response.status_code == status
    body = response.json()
    assert body["errors"][0]["message"]
    assert "INTERNAL_SERVER_ERROR" not in error_codes(body)
    assert ("data" in body) is (headers is LEGACY)


async def test_operation_limits_are_request_errors(http: AsyncClient) -> None:
    # given a query past the alias limit (a validation error added by an extension)
    query = "{ " + " ".join(f"a{i}: __typename" for i in range(100)) + " }"
    # when the client asks for the new media type
    response = await http.post("/graphql", json={"query": query}, headers=NEW)
    # then it is refused before execution
    assert response.status_code == 400
    assert "data" not in response.json()


async def test_field_errors_keep_data_and_200(http: AsyncClient) -> None:
    # given an executed operation whose field fails (a bad bearer token makes `me` raise UNAUTHENTICATED)
    response = await http.post(
        "/graphql", json={"query": "{ me { __typename } }"}, headers={**NEW, "authorization": "Bearer not-a-token"}
    )
    # then it is a 200 with data, as the operation did execute
    assert response.status_code == 200
    body = response.json()
    assert "data" in body
    assert error_codes(body) == ["UNAUTHENTICATED"]


async def test_authenticated_query_over_get(http: AsyncClient, factory: Factory) -> None:
    # given a signed-in staff user
    tenant = await factory.tenant()
    login = await http.post(
        "/graphql",
        json={
            "query": "mutation($i: LoginInput!) { login(input: $i) { ... on Session { token } } }",
            "variables": {"i": {"email": tenant.owner.email, "password": PASSWORD}},
        },
        headers=NEW,
    )
    token = login.json()["data"]["login"]["token"]
    # when `me` is asked over GET with the bearer token
    response = await http.get(
        "/graphql",
        params={"query": "{ me { ... on StaffUser { email } } }"},
        headers={**NEW, "authorization": f"Bearer {token}"},
    )
    # then it answers for that user
    assert response.status_code == 200
    assert response.json() == {"data": {"me": {"email": tenant.owner.email}}}


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"content": b'{ "not a JSON', "headers": {"content-type": "application/json"}}, "BAD_REQUEST"),
        ({"json": {"notquery": "{ __typename }"}}, "BAD_REQUEST"),
        ({"json": {"query": "{ __typename }", "variables": "string"}}, "BAD_REQUEST"),
        ({"json": {"query": "{ __typename }", "operationName": 0}}, "BAD_REQUEST"),
        ({"content": b"{ __typename }", "headers": {"content-type": "text/plain"}}, "BAD_REQUEST"),
    ],
)
@pytest.mark.parametrize("accept", [NEW, LEGACY])
async def test_malformed_requests_are_400_json(
    http: AsyncClient, kwargs: dict[str, Any], code: str, accept: dict[str, str]
) -> None:
    # given a request that is not a well-formed GraphQL request  # when it is posted
    headers = {**accept, **kwargs.pop("headers", {})}
    response = await http.post("/graphql", headers=headers, **kwargs)
    # then it is a 400 with a JSON error body (not Strawberry's plain text)
    assert response.status_code == 400
    assert response.headers["content-type"] == accept["accept"]
    assert error_codes(response.json()) == [code]
    assert "accept" in response.headers["vary"].lower()


async def test_graphiql_page_varies_on_accept(http: AsyncClient) -> None:
    response = await http.get("/graphql", headers={"accept": "text/html"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "accept" in response.headers["vary"].lower()


@pytest.mark.slow
def test_graphql_http_audit_reports_no_error_and_no_warning(live_server: str) -> None:
    # given the real server on a loopback port  # when graphql-http's server audits run against it
    require_node_package("graphql-http")
    completed = run_node(HERE / "audit.mjs", f"{live_server}/graphql")
    assert completed.returncode == 0, completed.stderr
    report = json.loads(completed.stdout)
    counts = report["counts"]
    print(f"graphql-http audit: {report['total']} audits, {counts}")
    # then every audit passes
    assert report["failures"] == []
    assert counts["error"] == 0 and counts["warn"] == 0
    assert counts["ok"] == report["total"]


@pytest.mark.slow
async def test_websocket_still_speaks_graphql_transport_ws(live_server: str, gql: Any, factory: Factory) -> None:
    # given a staff token, and the real server
    tenant = await factory.tenant()
    token = await gql.login(tenant.owner.email, PASSWORD)
    ws_url = live_server.replace("http://", "ws://") + "/graphql"
    with httpx.Client() as client:
        # when a socket signs in through connection_init and runs an operation
        with connect_ws(ws_url, client, subprotocols=["graphql-transport-ws"]) as ws:
            ws.send_json({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}})
            assert ws.receive_json(timeout=10)["type"] == "connection_ack"
            query = "{ me { ... on StaffUser { email } } }"
            ws.send_json({"id": "1", "type": "subscribe", "payload": {"query": query}})
            # then the operation answers over the socket
            assert ws.receive_json(timeout=10) == {
                "id": "1",
                "type": "next",
                "payload": {"data": {"me": {"email": tenant.owner.email}}},
            }
            assert ws.receive_json(timeout=10) == {"id": "1", "type": "complete"}
        # and a socket without credentials is refused with 4403
        with connect_ws(ws_url, client, subprotocols=["graphql-transport-ws"]) as ws:
            ws.send_json({"type": "connection_init", "payload": {}})
            with pytest.raises(WebSocketDisconnect) as closed:
                ws.receive_json(timeout=10)
            assert closed.value.code == 4403
