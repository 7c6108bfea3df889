"""updateEstimate: editable states, replacing lines, revising a declined estimate, tenant isolation."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from core.database import Database
from core.scope import T_ACTIVITY, T_ESTIMATE, T_LINE_ITEM
from services.documents.lines import LineDraft
from tests.client import GraphQLClient
from tests.factories import Factory
from tests.invoice.helpers import SEND_ESTIMATE, UPDATE_ESTIMATE, line, mutate, portal_token, snapshot, staff_session


async def test_updates_fields_and_replaces_every_line(gql: GraphQLClient, factory: Factory, db: Database) -> None:
    # given a draft estimate with one line and a reference
    staff = await staff_session(gql, factory)
    estimate = await factory.estimate(staff.tenant.contact_a, status="DRAFT", reference="OLD", notes="keep")
    # when staff changes the reference, clears the expiry date and replaces the lines
    result = await mutate(
        gql,
        UPDATE_ESTIMATE,
        {
            "input": {
                "id": estimate.gid,
                "reference": "NEW",
                "expiryDate": None,
                "lineItems": [line("A", "1", "10"), line("B", "3", "5", discountPercent="50")],
            }
        },
        staff.token,
    )
    # then only those change, the totals follow the new lines and the history records the edit
    assert result["__typename"] == "Estimate"
    assert (result["status"], result["reference"], result["notes"], result["expiryDate"]) == (
        "DRAFT",
        "NEW",
        "keep",
        None,
    )
    assert [item["name"] for item in result["lineItems"]] == ["A", "B"]
    assert (result["subtotal"], result["total"]) == ("17.50", "17.50")
    assert [entry["kind"] for entry in result["activity"]] == ["updated"]
    assert len(await snapshot(db, T_LINE_ITEM, estimate_id=estimate.pk)) == 2


async def test_a_sent_estimate_stays_sent(gql: GraphQLClient, factory: Factory) -> None:
    staff = await staff_session(gql, factory)
    estimate = await factory.estimate(staff.tenant.contact_a, status="SENT")
    result = await mutate(gql, UPDATE_ESTIMATE, {"input": {"id": estimate.gid, "terms": "Net 15"}}, staff.token)
    assert (result["status"], result["terms"]) == ("SENT", "Net 15")


async def test_an_update_with_no_fields_changes_nothing(gql: GraphQLClient, factory: Factory, db: Database) -> None:
    staff = await staff_session(gql, factory)
    estimate = await factory.estimate(staff.tenant.contact_a, status="DRAFT")
    before = await snapshot(db, T_ESTIMATE)
    result = await mutate(gql, UPDATE_ESTIMATE, {"input": {"id": estimate.gid}}, staff.token)
    assert result["activity"] == []
    assert await snapshot(db, T_ESTIMATE) == before


async def test_a_declined_estimate_edited_becomes_a_draft_and_can_be_sent_again(
    gql: GraphQLClient, factory: Factory, db: Database
) -> None:
    # given an estimate the client declined, with a reason
    staff = await staff_session(gql, factory)
    estimate = await factory.estimate(
        staff.tenant.contact_a,
        status="DECLINED",
        declined_at=dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
        decline_reason="Too expensive",
    )
    # when staff lowers the price
    revised = await mutate(
        gql, UPDATE_ESTIMATE, {"input": {"id": estimate.gid, "lineItems": [line(rate="40")]}}, staff.token
    )
    # then it is a revisable draft again, the decline kept only in its history
    assert (revised["status"], revised["declinedAt"], revised["declineReason"], revised["total"]) == (
        "DRAFT",
        None,
        None,
        "80.00",
    )
    async with db.session() as session:
        entry = (await session.execute(select(T_ACTIVITY).where(T_ACTIVITY.c.estimate_id == estimate.pk))).one()
    assert entry.kind == "revised"
    assert entry.details["decline_reason"] == "Too expensive"
    assert entry.details["previous_status"] == "DECLINED"
    # and it can be sent again, reaching the portal as SENT
    sent = await mutate(gql, SEND_ESTIMATE, {"id": estimate.gid}, staff.token)
    assert sent["status"] == "SENT"
    assert [entry["kind"] for entry in sent["activity"]] == ["revised", "sent"]
    client = await portal_token(gql, staff.tenant)
    seen = await gql("query($id: ID!) { estimate(id: $id) { status total } }", {"id": estimate.gid}, as_=client)
    assert seen["estimate"] == {"status": "SENT", "total": "80.00"}


@pytest.mark.parametrize("status", ["ACCEPTED", "INVOICED"])
async def test_accepted_or_invoiced_estimates_cannot_change(
    gql: GraphQLClient, factory: Factory, db: Database, status: str
) -> None:
    staff = await staff_session(gql, factory)
    estimate = await factory.estimate(staff.tenant.contact_a, status=status)
    before = await snapshot(db, T_ESTIMATE)
    result = await mutate(
        gql, UPDATE_ESTIMATE, {"input": {"id": estimate.gid, "lineItems": [line(rate="1")]}}, staff.token
    )
    assert (result["__typename"], result["code"]) == ("UpdateEstimateError", "INVALID_STATE")
    assert await snapshot(db, T_ESTIMATE) == before
    assert [row["rate"] for row in await snapshot(db, T_LINE_ITEM)] == [50]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"issueDate": None}, "issueDate"),
        ({"lineItems": None}, "lineItems"),
        ({"expiryDate": "2000-01-01"}, "expiryDate"),
        ({"lineItems": [line(rate="0.001")]}, "lineItems[0].rate"),
    ],
)
async def test_invalid_input_is_refused(
    gql: GraphQLClient, factory: Factory, db: Database, change: dict[str, object], field: str
) -> None:
    staff = await staff_session(gql, factory)
    estimate = await factory.estimate(staff.tenant.contact_a, status="DRAFT")
    before = await snapshot(db, T_LINE_ITEM)
    result = await mutate(gql, UPDATE_ESTIMATE, {"input": {"id": estimate.gid, **change}}, staff.token)
    assert (result["code"], result["field"]) == ("INVALID_INPUT", field)
    assert await snapshot(db, T_LINE_ITEM) == before


async def test_rates_follow_the_currency_of_the_estimate(gql: GraphQLClient, factory: Factory) -> None:
    # given an estimate in yen: a rate with decimals is refused, a whole one is accepted
    staff = await staff_session(gql, factory)
    contact = await factory.contact(staff.tenant.org, currency="JPY")
    estimate = await factory.estimate(
        contact,
        status="DRAFT",
        lines=[LineDraft(name="Work", quantity=1, rate=1000)],  # type: ignore[arg-type]
    )
    refused = await mutate(
        gql, UPDATE_ESTIMATE, {"input": {"id": estimate.gid, "lineItems": [line(rate="10.5")]}}, staff.token
    )
    accepted = await mutate(
        gql, UPDATE_ESTIMATE, {"input": {"id": estimate.gid, "lineItems": [line(rate="1050")]}}, staff.token
    )
    assert (refused["code"], refused["field"]) == ("INVALID_INPUT", "lineItems[0].rate")
    assert accepted["total"] == "2100"


async def test_staff_of_another_organization_gets_not_found(gql: GraphQLClient, factory: Factory, db: Database) -> None:
    # given an estimate of one organization
    victim = await staff_session(gql, factory)
    estimate = await factory.estimate(victim.tenant.contact_a, status="DECLINED", decline_reason="No")
    intruder = await staff_session(gql, factory)
    before = (await snapshot(db, T_ESTIMATE), await snapshot(db, T_LINE_ITEM), await snapshot(db, T_ACTIVITY))
    # when staff of another organization edits it
    result = await mutate(
        gql, UPDATE_ESTIMATE, {"input": {"id": estimate.gid, "notes": "mine", "lineItems": []}}, intruder.token
    )
    # then it does not exist for them and nothing changed
    assert (result["code"], result["field"]) == ("NOT_FOUND", "id")
    assert (await snapshot(db, T_ESTIMATE), await snapshot(db, T_LINE_ITEM), await snapshot(db, T_ACTIVITY)) == before


async def test_an_id_of_another_type_is_not_found(gql: GraphQLClient, factory: Factory) -> None:
    staff = await staff_session(gql, factory)
    invoice = await factory.invoice(staff.tenant.contact_a, status="DRAFT")
    result = await mutate(gql, UPDATE_ESTIMATE, {"input": {"id": invoice.gid, "notes": "x"}}, staff.token)
    assert result["code"] == "NOT_FOUND"
