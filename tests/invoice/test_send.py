"""sendInvoice: DRAFT → SENT, re-sending unpaid invoices, empty invoices, tenant isolation."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from core.database import Database
from core.scope import T_ACTIVITY, T_INVOICE
from services.documents.lines import LineDraft
from tests.client import GraphQLClient
from tests.factories import Factory
from tests.invoice.helpers import SEND_INVOICE, mutate, portal_token, snapshot, staff_session


async def test_sends_a_draft_to_the_portal(gql: GraphQLClient, factory: Factory, db: Database) -> None:
    # given a draft invoice
    staff = await staff_session(gql, factory)
    invoice = await factory.invoice(staff.tenant.contact_a, status="DRAFT")
    client = await portal_token(gql, staff.tenant)
    query = "query($id: ID!) { invoice(id: $id) { status balanceDue } }"
    assert (await gql(query, {"id": invoice.gid}, as_=client))["invoice"] is None
    # when staff sends it
    result = await mutate(gql, SEND_INVOICE, {"id": invoice.gid}, staff.token)
    # then it is SENT, the client sees what is due, and the client-visible history says so
    assert (result["status"], result["sentAt"] is not None) == ("SENT", True)
    assert (await gql(query, {"id": invoice.gid}, as_=client))["invoice"] == {"status": "SENT", "balanceDue": "100.00"}
    async with db.session() as session:
        entries = (await session.execute(select(T_ACTIVITY.c.kind, T_ACTIVITY.c.client_visible))).all()
    assert [tuple(entry) for entry in entries] == [("sent", True)]


@pytest.mark.parametrize(("status", "paid"), [("SENT", "0"), ("PARTIALLY_PAID", "30")])
async def test_an_unpaid_invoice_can_be_sent_again(
    gql: GraphQLClient, factory: Factory, status: str, paid: str
) -> None:
    staff = await staff_session(gql, factory)
    invoice = await factory.invoice(staff.tenant.contact_a, status=status, amount_paid=Decimal(paid))
    result = await mutate(gql, SEND_INVOICE, {"id": invoice.gid}, staff.token)
    assert (result["status"], [entry["kind"] for entry in result["activity"]]) == (status, ["sent"])


@pytest.mark.parametrize(("status", "paid"), [("PAID", "100"), ("VOID", "0")])
async def test_paid_or_void_invoices_are_not_sent(
    gql: GraphQLClient, factory: Factory, db: Database, status: str, paid: str
) -> None:
    staff = await staff_session(gql, factory)
    invoice = await factory.invoice(staff.tenant.contact_a, status=status, amount_paid=Decimal(paid))
    before = await snapshot(db, T_INVOICE)
    result = await mutate(gql, SEND_INVOICE, {"id": invoice.gid}, staff.token)
    assert (result["__typename"], result["code"]) == ("SendInvoiceError", "INVALID_STATE")
    assert await snapshot(db, T_INVOICE) == before


@pytest.mark.parametrize(
    "lines", [[], [LineDraft(name="Free", quantity=Decimal(1), rate=Decimal(0))]], ids=["no lines", "zero total"]
)
async def test_an_invoice_with_nothing_to_pay_is_not_sent(
    gql: GraphQLClient, factory: Factory, db: Database, lines: list[LineDraft]
) -> None:
    staff = await staff_session(gql, factory)
    invoice = await factory.invoice(staff.tenant.contact_a, status="DRAFT", lines=lines)
    before = await snapshot(db, T_INVOICE)
    result = await mutate(gql, SEND_INVOICE, {"id": invoice.gid}, staff.token)
    assert result["code"] == "EMPTY_DOCUMENT"
    assert await snapshot(db, T_INVOICE) == before


async def test_staff_of_another_organization_gets_not_found(gql: GraphQLClient, factory: Factory, db: Database) -> None:
    victim = await staff_session(gql, factory)
    invoice = await factory.invoice(victim.tenant.contact_a, status="DRAFT")
    intruder = await staff_session(gql, factory)
    before = (await snapshot(db, T_INVOICE), await snapshot(db, T_ACTIVITY))
    result = await mutate(gql, SEND_INVOICE, {"id": invoice.gid}, intruder.token)
    assert (result["code"], result["field"]) == ("NOT_FOUND", "id")
    assert (await snapshot(db, T_INVOICE), await snapshot(db, T_ACTIVITY)) == before
