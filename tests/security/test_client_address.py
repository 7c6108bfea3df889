"""The client address used by throttles and history never comes from X-Forwarded-For unless the direct peer is a
trusted proxy, however the app is started: in process, and under the plain ``uvicorn app:app`` command (whose
default --proxy-headers rewrites the peer from the header when the connection comes from 127.0.0.1)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from httpx import ASGITransport, AsyncClient
from starlette.requests import Request

from core.context import client_address
from core.settings import Settings
from tests.factories import Factory
from tests.live import running_server
from tests.subscriptions.conftest import Sessions

ACCEPT = """mutation($id: ID!) { acceptEstimate(id: $id) { __typename ... on Estimate { status } } }"""
ACCEPTED_IP = """query($id: ID!) { estimate(id: $id) { acceptedIp } }"""
LOGIN = """mutation($input: LoginInput!) { login(input: $input) { __typename ... on LoginError { code } } }"""


def request(peer: tuple[str, int], *forwarded: str) -> Request:
    headers = [(b"x-forwarded-for", value.encode()) for value in forwarded]
    return Request({"type": "http", "client": peer, "headers": headers, "method": "GET", "path": "/"})


def test_the_address_comes_from_the_header_only_through_a_trusted_proxy() -> None:
    plain = Settings(_env_file=None)  # type: ignore[call-arg]
    behind = Settings(_env_file=None, trusted_proxies=["10.0.0.0/8"])  # type: ignore[call-arg]
    assert client_address(request(("203.0.113.9", 5000), "198.51.100.1"), plain) == "203.0.113.9"
    assert client_address(request(("10.0.0.5", 5000), "198.51.100.1"), plain) == "10.0.0.5"
    assert client_address(request(("10.0.0.5", 5000), "198.51.100.1, 10.0.0.7"), behind) == "198.51.100.1"
    assert client_address(request(("10.0.0.5", 5000), "1.1.1.1", "198.51.100.1"), behind) == "198.51.100.1"
    assert client_address(request(("203.0.113.9", 5000), "198.51.100.1"), behind) == "203.0.113.9"
    # a server that rewrote the peer from the header (the peer is one of its hops): the real peer is unknown
    assert client_address(request(("198.51.100.1", 0), "198.51.100.1"), plain) is None
    assert client_address(request(("198.51.100.1", 8080), "198.51.100.1:8080"), plain) is None


async def test_a_forged_header_is_not_believed_in_process(
    settings: Settings, factory: Factory, sessions: Sessions
) -> None:
    from app import create_app

    tenant = await factory.tenant()
    estimate = await factory.estimate(tenant.contact_a)
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        transport = ASGITransport(app=application, client=("203.0.113.9", 4000))
        async with AsyncClient(transport=transport, base_url="http://portico.test") as client:
            headers = {
                "authorization": f"Bearer {await sessions.portal(tenant.person_a)}",
                "x-forwarded-for": "6.6.6.6",
            }
            answer = await client.post(
                "/graphql", json={"query": ACCEPT, "variables": {"id": estimate.gid}}, headers=headers
            )
            assert answer.json()["data"]["acceptEstimate"]["status"] == "ACCEPTED"
            staff = {"authorization": f"Bearer {await sessions.staff(tenant.owner)}"}
            seen = await client.post(
                "/graphql", json={"query": ACCEPTED_IP, "variables": {"id": estimate.gid}}, headers=staff
            )
    assert seen.json()["data"]["estimate"]["acceptedIp"] == "203.0.113.9"


async def test_plain_uvicorn_does_not_let_a_forged_header_choose_the_address(
    settings: Settings, factory: Factory, sessions: Sessions
) -> None:
    tenant = await factory.tenant()
    estimate = await factory.estimate(tenant.contact_a)
    portal = await sessions.portal(tenant.person_a)
    staff = await sessions.staff(tenant.owner)
    with running_server(settings) as base_url:  # `uvicorn app:app`: uvicorn's own proxy headers are on
        async with httpx.AsyncClient(base_url=base_url, timeout=20) as client:

            async def post(query: str, variables: dict[str, Any], token: str | None, forged: str) -> Any:
                headers = {"x-forwarded-for": forged}
                if token:
                    headers["authorization"] = f"Bearer {token}"
                response = await client.post("/graphql", json={"query": query, "variables": variables}, headers=headers)
                return response.json()["data"]

            accepted = await post(ACCEPT, {"id": estimate.gid}, portal, "6.6.6.6")
            assert accepted["acceptEstimate"]["status"] == "ACCEPTED"
            assert (await post(ACCEPTED_IP, {"id": estimate.gid}, staff, "7.7.7.7"))["estimate"][
                "acceptedIp"
            ] != "6.6.6.6"
            # failed sign-ins for 40 accounts, each from a "new" forged address: the per-address limit still holds
            answers = []
            for n in range(40):
                variables = {"input": {"email": f"nobody{n}@example.test", "password": "wrong-password"}}
                answers.append((await post(LOGIN, variables, None, f"10.{n}.{n}.{n}"))["login"]["code"])
                await asyncio.sleep(0)
    assert answers[:30] == ["INVALID_CREDENTIALS"] * 30
    assert set(answers[30:]) == {"TOO_MANY_ATTEMPTS"}, answers
