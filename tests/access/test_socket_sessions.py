"""An open websocket obeys its session's current state: every operation and event is authorized against it, and a
session that ends for any reason closes its sockets at once (4403), on every app process."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update

from core.database import Database
from core.scope import T_COMMENT, T_CONTACT_PERSON, T_ORGANIZATION, T_STAFF_USER
from models import AuthSession
from tests.client import GraphQLClient
from tests.factories import Factory, Tenant
from tests.live import running_server
from tests.subscriptions.conftest import PrivateRedis, Sessions
from tests.subscriptions.wsclient import Socket, in_process, live

T_SESSION = AuthSession.__table__
INVOICES = "{ invoices(first: 1) { edges { node { id number } } } }"
DASHBOARD = "subscription { dashboardUpdated { outstandingCount } }"
ADD_COMMENT = """mutation($input: AddCommentInput!) { addComment(input: $input) { __typename } }"""
PROJECTS = "{ projects(first: 5) { totalCount } }"


async def logout(gql: GraphQLClient, token: str) -> None:
    assert await gql("mutation { logout }", as_=token) == {"logout": True}


async def comments(db: Database) -> int:
    async with db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(T_COMMENT)) or 0)


async def answers(socket: Socket, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    op_id = await socket.subscribe(query, variables)
    message = await socket.receive()
    assert message.get("id") == op_id, message
    return message


async def test_logout_closes_the_sockets_of_that_session_within_a_second(
    app: Any, gql: GraphQLClient, factory: Factory, sessions: Sessions, caplog: pytest.LogCaptureFixture
) -> None:
    tenant = await factory.tenant()
    token = await sessions.portal(tenant.person_a)
    other = await sessions.portal(tenant.person_a)  # the same person's other session stays
    async with (
        in_process(app, token) as idle,
        in_process(app, token) as subscribed,
        in_process(app, other) as unaffected,
    ):
        await subscribed.subscribe(DASHBOARD)
        await subscribed.subscribe(DASHBOARD)
        with caplog.at_level(logging.INFO):
            await logout(gql, token)
            for socket in (idle, subscribed):
                closed = await socket.closed(timeout=1)
                assert closed.code == 4403
            assert (await answers(unaffected, INVOICES))["type"] == "next"
            await asyncio.sleep(0.2)  # the closed handlers' shutdown ran
    problems = [r for r in caplog.records if r.levelno >= logging.WARNING or r.exc_info]
    assert problems == [], [r.getMessage() for r in problems]


@pytest.mark.parametrize("change", ["revoked", "expired", "person_disabled", "portal_disabled", "staff_inactive"])
async def test_every_operation_on_a_socket_is_authorized_against_the_session_as_it_is_now(
    app: Any, db: Database, factory: Factory, sessions: Sessions, change: str
) -> None:
    """The row changes behind the app's back (no event is published): the next operation still finds out."""
    tenant = await factory.tenant()
    invoice = await factory.invoice(tenant.contact_a)
    staff = change == "staff_inactive"
    token = await (sessions.staff(tenant.owner) if staff else sessions.portal(tenant.person_a))
    async with in_process(app, token) as socket:
        assert (await answers(socket, INVOICES))["type"] == "next"
        assert (await socket.receive())["type"] == "complete"
        async with db.transaction() as session:
            await session.execute(_change(change, tenant))
        before = await comments(db)
        await socket.subscribe(ADD_COMMENT, {"input": {"targetId": invoice.gid, "body": "written after the end"}})
        closed = await socket.closed(timeout=2)
        assert closed.code == 4403
    assert await comments(db) == before


def _change(change: str, tenant: Tenant) -> Any:
    past = datetime.now(UTC) - timedelta(seconds=1)
    return {
        "revoked": update(T_SESSION).values(revoked_at=past),
        "expired": update(T_SESSION).values(expires_at=past),
        "person_disabled": update(T_CONTACT_PERSON)
        .where(T_CONTACT_PERSON.c.id == tenant.person_a.pk)
        .values(portal_status="DISABLED"),
        "portal_disabled": update(T_ORGANIZATION)
        .where(T_ORGANIZATION.c.id == tenant.org.pk)
        .values(portal_enabled=False),
        "staff_inactive": update(T_STAFF_USER).where(T_STAFF_USER.c.id == tenant.owner.pk).values(is_active=False),
    }[change]


async def test_a_socket_closes_when_its_session_expires(
    app: Any, db: Database, factory: Factory, sessions: Sessions
) -> None:
    tenant = await factory.tenant()
    token = await sessions.portal(tenant.person_a)
    async with db.transaction() as session:
        await session.execute(update(T_SESSION).values(expires_at=datetime.now(UTC) + timedelta(seconds=1)))
    async with in_process(app, token) as socket:
        await socket.subscribe(DASHBOARD)
        closed = await socket.closed(timeout=2.5)
        assert closed.code == 4403


async def test_turning_the_portal_off_closes_every_portal_socket_of_the_organization_and_no_staff_socket(
    app: Any, gql: GraphQLClient, factory: Factory, sessions: Sessions
) -> None:
    tenant = await factory.tenant()
    elsewhere = await factory.tenant()
    staff_token = await sessions.staff(tenant.owner)
    async with (
        in_process(app, await sessions.portal(tenant.person_a)) as portal_a,
        in_process(app, await sessions.portal(tenant.person_b)) as portal_b,
        in_process(app, await sessions.portal(elsewhere.person_a)) as other_org,
        in_process(app, staff_token) as staff,
    ):
        await portal_a.subscribe(DASHBOARD)
        settings_off = """mutation { updatePortalSettings(input: {portalEnabled: false}) { __typename } }"""
        assert (await gql(settings_off, as_=staff_token))["updatePortalSettings"]["__typename"] == "PortalSettings"
        for socket in (portal_a, portal_b):
            assert (await socket.closed(timeout=1)).code == 4403
        assert (await answers(staff, INVOICES))["type"] == "next"
        assert (await answers(other_org, INVOICES))["type"] == "next"


async def test_hidden_projects_stop_answering_over_an_open_socket(
    app: Any, gql: GraphQLClient, factory: Factory, sessions: Sessions
) -> None:
    tenant = await factory.tenant()
    staff_token = await sessions.staff(tenant.owner)
    async with in_process(app, await sessions.portal(tenant.person_a)) as socket:
        shown = await answers(socket, PROJECTS)
        assert shown["payload"] == {"data": {"projects": {"totalCount": 0}}}
        await socket.receive()  # complete
        hide = """mutation { updatePortalSettings(input: {showProjectsAndTimesheets: false}) { __typename } }"""
        await gql(hide, as_=staff_token)
        hidden = await answers(socket, PROJECTS)
        codes = [e["extensions"]["code"] for e in hidden["payload"]["errors"]]
        assert codes == ["FEATURE_DISABLED"], hidden


async def test_a_session_ended_on_one_app_process_closes_its_socket_on_another(
    private_redis: PrivateRedis, settings: Any, factory: Factory, sessions: Sessions
) -> None:
    tenant = await factory.tenant()
    token = await sessions.portal(tenant.person_a)
    with (
        running_server(settings, BROADCAST_URL=private_redis.url) as process_a,
        running_server(settings, BROADCAST_URL=private_redis.url) as process_b,
    ):
        async with live(process_b, token) as socket:
            await socket.subscribe(DASHBOARD)
            await asyncio.sleep(0.3)  # the subscription is registered
            async with httpx.AsyncClient(base_url=process_a) as client:
                response = await client.post(
                    "/graphql", json={"query": "mutation { logout }"}, headers={"authorization": f"Bearer {token}"}
                )
                assert response.json() == {"data": {"logout": True}}
            closed = await socket.closed(timeout=1)
            assert closed.code == 4403
