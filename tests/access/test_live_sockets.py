"""Revoking access closes the person's open websockets at once (a real server, a real socket)."""

from __future__ import annotations

import httpx
import pytest
from httpx_ws import WebSocketDisconnect, connect_ws

from core.settings import Settings
from tests.factories import PASSWORD, Factory
from tests.live import running_server

LOGIN = """mutation($i: LoginInput!) { login(input: $i) { ... on Session { token } } }"""
DISABLE = """mutation($id: ID!) { disablePortalAccess(contactPersonId: $id) { __typename } }"""


def post(client: httpx.Client, query: str, variables: dict, token: str | None = None) -> dict:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    response = client.post("/graphql", json={"query": query, "variables": variables}, headers=headers)
    return response.json()["data"]


def login(client: httpx.Client, email: str, portal: str | None = None) -> str:
    token = post(client, LOGIN, {"i": {"email": email, "password": PASSWORD, "portal": portal}})["login"]["token"]
    client.cookies.clear()
    return str(token)


@pytest.mark.slow
async def test_disabling_portal_access_closes_open_sockets(settings: Settings, factory: Factory) -> None:
    tenant = await factory.tenant()
    with running_server(settings) as base_url, httpx.Client(base_url=base_url, timeout=10) as client:
        portal_token = login(client, tenant.person_a.email, tenant.org.portal_slug)
        colleague_token = login(client, tenant.person_b.email, tenant.org.portal_slug)
        staff_token = login(client, tenant.owner.email)
        ws_url = base_url.replace("http", "ws", 1) + "/graphql"
        with (
            connect_ws(ws_url, client, subprotocols=["graphql-transport-ws"]) as socket,
            connect_ws(ws_url, client, subprotocols=["graphql-transport-ws"]) as colleague_socket,
        ):
            for ws, token in ((socket, portal_token), (colleague_socket, colleague_token)):
                ws.send_json({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}})
                assert ws.receive_json(timeout=10)["type"] == "connection_ack"
            assert post(client, DISABLE, {"id": tenant.person_a.gid}, staff_token) == {
                "disablePortalAccess": {"__typename": "ContactPerson"}
            }
            with pytest.raises(WebSocketDisconnect) as closed:
                socket.receive_json(timeout=10)
            assert closed.value.code == 4403
            # the colleague's socket stays open and answers
            colleague_socket.send_json({"id": "1", "type": "subscribe", "payload": {"query": "{ me { __typename } }"}})
            assert colleague_socket.receive_json(timeout=10)["payload"] == {
                "data": {"me": {"__typename": "ContactPerson"}}
            }
