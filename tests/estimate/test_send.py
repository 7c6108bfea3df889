"""sendEstimate: DRAFT → SENT, re-sending, empty and expired estimates, tenant isolation."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from core.database import Database
from core.scope import T_ACTIVITY, T_ESTIMATE
from tests.client import GraphQLClient
from tests.factories import Factory
from tests.invoice.helpers import SEND_ESTIMATE, mutate, portal_token, snapshot, staff_session


async def test_sends_a_draft_to_the_portal(gql: GraphQLClient, factory: Factory, db: Database) -> None:
    # given a draft estimate the client cannot see yet
    staff = await staff_session(gql, factory)
    estimate = await factory.estimate(staff.tenant.contact_a, status="DRAFT")
    client = await portal_token(gql, staff.tenant)
    query = "query($id: ID!) { estimate(id: $id) { number status } }"
    assert (await gql(query, {"id": estimate.gid}, as_=client))["estimate"] is None
    # when staff sends it
    result = await mutate(gql, SEND_ESTIMATE, {"id": estimate.gid}, staff.token)
    # then it is SENT with a send time, the client sees it and the client-visible history says so
    assert (result["status"], result["sentAt"] is not None) == ("SENT", True)
    assert (await gql(query, {"id": estimate.gid}, as_=client))["estimate"] == {
        "number": estimate.number,
        "status": "SENT",
    }
    async with db.session() as session:
        entries = (await session.execute(select(T_ACTIVITY.c.kind, T_ACTIVITY.c.client_visible))).all()
    assert [tuple(entry) for entry in entries] == [("sent", True)]


async def test_a_sent_estimate_can_be_sent_again(gql: GraphQLClient, factory: Factory) -> None:
    staff = await staff_session(gql, factory)
    estimate = await factory.estimate(staff.tenant.contact_a, status="DRAFT")
    first = await mutate(gql, SEND_ESTIMATE, {"id": estimate.gid}, staff.token)
    again = await mutate(gql, SEND_ESTIMATE, {"id": estimate.gid}, staff.token)
    assert again["status"] == "SENT"
    assert again["sentAt"] == first["sentAt"]
    assert [entry["kind"] for entry in again["activity"]] == ["sent", "sent"]


async def test_an_estimate_without_lines_is_not_sent(gql: GraphQLClient, factory: Factory, db: Database) -> None:
    staff = await staff_session(gql, factory)
    estimate = await factory.estimate(staff.tenant.contact_a, status="DRAFT", lines=[])
    before = await snapshot(db, T_ESTIMATE)
    result = await mutate(gql, SEND_ESTIMATE, {"id": estimate.gid}, staff.token)
    assert (result["__typename"], result["code"]) == ("SendEstimateError", "EMPTY_DOCUMENT")
    assert await snapshot(db, T_ESTIMATE) == before


async def test_an_estimate_past_its_expiry_date_is_not_sent(gql: GraphQLClient, factory: Factory, db: Database) -> None:
    staff = await staff_session(gql, factory)
    yesterday = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
    estimate = await factory.estimate(
        staff.tenant.contact_a, status="DRAFT", issue_date=yesterday - dt.timedelta(days=30), expiry_date=yesterday
    )
    before = await snapshot(db, T_ESTIMATE)
    result = await mutate(gql, SEND_ESTIMATE, {"id": estimate.gid}, staff.token)
    assert (result["code"], result["field"]) == ("EXPIRED", "id")
    assert await snapshot(db, T_ESTIMATE) == before


@pytest.mark.parametrize("status", ["ACCEPTED", "DECLINED", "INVOICED"])
async def test_answered_estimates_are_not_sent(gql: GraphQLClient, factory: Factory, db: Database, status: str) -> None:
    staff = await staff_session(gql, factory)
    estimate = await factory.estimate(staff.tenant.contact_a, status=status)
    before = await snapshot(db, T_ESTIMATE)
    result = await mutate(gql, SEND_ESTIMATE, {"id": estimate.gid}, staff.token)
    assert result["code"] == "INVALID_STATE"
    assert await snapshot(db, T_ESTIMATE) == before


async def test_staff_of_another_organization_gets_not_found(gql: GraphQLClient, factory: Factory, db: Database) -> None:
    victim = await staff_session(gql, factory)
    estimate = await factory.estimate(victim.tenant.contact_a, status="DRAFT")
    intruder = await staff_session(gql, factory)
    before = (await snapshot(db, T_ESTIMATE), await snapshot(db, T_ACTIVITY))
    result = await mutate(gql, SEND_ESTIMATE, {"id": estimate.gid}, intruder.token)
    assert (result["code"], result["field"]) == ("NOT_FOUND", "id")
    assert (await snapshot(db, T_ESTIMATE), await snapshot(db, T_ACTIVITY)) == before
