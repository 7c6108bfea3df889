"""Queries sent over a long-lived websocket read fresh data each time (loaders belong to the operation)."""

from __future__ import annotations

import httpx
import pytest
from httpx_ws import connect_ws
from sqlalchemy import update

from core.database import Database
from core.scope import T_CONTACT
from core.settings import Settings
from tests.factories import PASSWORD, Factory
from tests.live import running_server

LOGIN = "mutation($i: LoginInput!) { login(input: $i) { ... on Session { token } } }"
QUERY = "query($id: ID!) { contact(id: $id) { displayName } }"


@pytest.mark.slow
async def test_each_operation_on_a_socket_reads_fresh_rows(settings: Settings, factory: Factory, db: Database) -> None:
    tenant = await factory.tenant()
    with running_server(settings) as base_url, httpx.Client(base_url=base_url, timeout=10) as client:
        token = client.post(
            "/graphql", json={"query": LOGIN, "variables": {"i": {"email": tenant.owner.email, "password": PASSWORD}}}
        ).json()["data"]["login"]["token"]
        with connect_ws(
            base_url.replace("http", "ws", 1) + "/graphql", client, subprotocols=["graphql-transport-ws"]
        ) as ws:
            ws.send_json({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}})
            assert ws.receive_json(timeout=10)["type"] == "connection_ack"
            names = []
            for step in ("1", "2"):
                ws.send_json(
                    {
                        "id": step,
                        "type": "subscribe",
                        "payload": {"query": QUERY, "variables": {"id": tenant.contact_a.gid}},
                    }
                )
                names.append(ws.receive_json(timeout=10)["payload"]["data"]["contact"]["displayName"])
                assert ws.receive_json(timeout=10)["type"] == "complete"
                async with db.transaction() as session:
                    await session.execute(
                        update(T_CONTACT).where(T_CONTACT.c.id == tenant.contact_a.pk).values(display_name="Renamed")
                    )
    assert names == [tenant.contact_a.display_name, "Renamed"]
