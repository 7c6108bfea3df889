"""updateInvoice: only drafts and unpaid sent invoices, balance recomputed, tenant isolation."""

from __future__ import annotations

from decimal import Decimal

import pytest

from core.database import Database
from core.scope import T_ACTIVITY, T_INVOICE, T_LINE_ITEM
from tests.client import GraphQLClient
from tests.factories import Factory
from tests.invoice.helpers import UPDATE_INVOICE, line, mutate, snapshot, staff_session


async def test_updates_a_draft_and_recomputes_its_balance(gql: GraphQLClient, factory: Factory) -> None:
    # given a draft invoice of 100.00
    staff = await staff_session(gql, factory)
    invoice = await factory.invoice(staff.tenant.contact_a, status="DRAFT", reference="A")
    # when staff turns it into a retainer for card only with new lines, and clears the reference
    result = await mutate(
        gql,
        UPDATE_INVOICE,
        {
            "input": {
                "id": invoice.gid,
                "kind": "RETAINER",
                "paymentGateways": ["CARD"],
                "reference": None,
                "dueDate": "2099-12-31",
                "lineItems": [line("Deposit", "1", "250.5")],
            }
        },
        staff.token,
    )
    # then the balance follows the new total and the history records the edit
    assert result["__typename"] == "Invoice"
    assert (result["kind"], result["paymentGateways"], result["reference"], result["dueDate"]) == (
        "RETAINER",
        ["CARD"],
        None,
        "2099-12-31",
    )
    assert (result["status"], result["total"], result["amountPaid"], result["balanceDue"]) == (
        "DRAFT",
        "250.50",
        "0.00",
        "250.50",
    )
    assert [entry["kind"] for entry in result["activity"]] == ["updated"]


async def test_an_unpaid_sent_invoice_can_change(gql: GraphQLClient, factory: Factory) -> None:
    staff = await staff_session(gql, factory)
    invoice = await factory.invoice(staff.tenant.contact_a, status="SENT")
    result = await mutate(
        gql, UPDATE_INVOICE, {"input": {"id": invoice.gid, "lineItems": [line(rate="75")]}}, staff.token
    )
    assert (result["status"], result["total"], result["balanceDue"]) == ("SENT", "150.00", "150.00")


@pytest.mark.parametrize(("status", "paid"), [("PARTIALLY_PAID", "40"), ("PAID", "100"), ("VOID", "0")])
async def test_paid_or_void_invoices_cannot_change(
    gql: GraphQLClient, factory: Factory, db: Database, status: str, paid: str
) -> None:
    staff = await staff_session(gql, factory)
    invoice = await factory.invoice(staff.tenant.contact_a, status=status, amount_paid=Decimal(paid))
    before = (await snapshot(db, T_INVOICE), await snapshot(db, T_LINE_ITEM))
    result = await mutate(
        gql, UPDATE_INVOICE, {"input": {"id": invoice.gid, "lineItems": [line(rate="1")]}}, staff.token
    )
    assert (result["__typename"], result["code"]) == ("UpdateInvoiceError", "INVALID_STATE")
    assert (await snapshot(db, T_INVOICE), await snapshot(db, T_LINE_ITEM)) == before


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"kind": None}, "kind"),
        ({"paymentGateways": None}, "paymentGateways"),
        ({"lineItems": None}, "lineItems"),
        ({"issueDate": None}, "issueDate"),
        ({"dueDate": "1999-01-01"}, "dueDate"),
        ({"paymentGateways": ["ACH"]}, "paymentGateways"),
        ({"lineItems": [line(discountPercent="10.12345")]}, "lineItems[0].discountPercent"),
    ],
)
async def test_invalid_input_is_refused(
    gql: GraphQLClient, factory: Factory, db: Database, change: dict[str, object], field: str
) -> None:
    staff = await staff_session(gql, factory, payment_gateways=["CARD"])
    invoice = await factory.invoice(staff.tenant.contact_a, status="DRAFT")
    before = await snapshot(db, T_INVOICE)
    result = await mutate(gql, UPDATE_INVOICE, {"input": {"id": invoice.gid, **change}}, staff.token)
    assert (result["code"], result["field"]) == ("INVALID_INPUT", field)
    assert await snapshot(db, T_INVOICE) == before


async def test_staff_of_another_organization_gets_not_found(gql: GraphQLClient, factory: Factory, db: Database) -> None:
    victim = await staff_session(gql, factory)
    invoice = await factory.invoice(victim.tenant.contact_a, status="DRAFT")
    intruder = await staff_session(gql, factory)
    before = (await snapshot(db, T_INVOICE), await snapshot(db, T_LINE_ITEM), await snapshot(db, T_ACTIVITY))
    result = await mutate(
        gql, UPDATE_INVOICE, {"input": {"id": invoice.gid, "notes": "mine", "lineItems": []}}, intruder.token
    )
    assert (result["code"], result["field"]) == ("NOT_FOUND", "id")
    assert (await snapshot(db, T_INVOICE), await snapshot(db, T_LINE_ITEM), await snapshot(db, T_ACTIVITY)) == before
