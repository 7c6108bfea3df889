"""voidInvoice: only without payments, final, tenant isolation."""

from __future__ import annotations

from decimal import Decimal

import pytest

from core.database import Database
from core.scope import T_ACTIVITY, T_INVOICE
from tests.client import GraphQLClient
from tests.factories import Factory
from tests.invoice.helpers import SEND_INVOICE, UPDATE_INVOICE, VOID_INVOICE, mutate, snapshot, staff_session


@pytest.mark.parametrize("status", ["DRAFT", "SENT"])
async def test_voids_an_invoice_without_payments(gql: GraphQLClient, factory: Factory, status: str) -> None:
    # given an invoice nobody has paid
    staff = await staff_session(gql, factory)
    invoice = await factory.invoice(staff.tenant.contact_a, status=status)
    # when staff voids it
    result = await mutate(gql, VOID_INVOICE, {"id": invoice.gid}, staff.token)
    # then it is VOID, nothing is owed on it, and the history says so
    assert (result["status"], result["total"], result["balanceDue"]) == ("VOID", "100.00", "0.00")
    assert [entry["kind"] for entry in result["activity"]] == ["voided"]


async def test_void_is_final(gql: GraphQLClient, factory: Factory, db: Database) -> None:
    staff = await staff_session(gql, factory)
    invoice = await factory.invoice(staff.tenant.contact_a, status="SENT")
    await mutate(gql, VOID_INVOICE, {"id": invoice.gid}, staff.token)
    before = await snapshot(db, T_INVOICE)
    again = await mutate(gql, VOID_INVOICE, {"id": invoice.gid}, staff.token)
    sent = await mutate(gql, SEND_INVOICE, {"id": invoice.gid}, staff.token)
    edited = await mutate(gql, UPDATE_INVOICE, {"input": {"id": invoice.gid, "notes": "x"}}, staff.token)
    assert [again["code"], sent["code"], edited["code"]] == ["INVALID_STATE"] * 3
    assert await snapshot(db, T_INVOICE) == before


@pytest.mark.parametrize(("status", "paid"), [("PARTIALLY_PAID", "40"), ("PAID", "100")])
async def test_an_invoice_with_payments_is_not_voided(
    gql: GraphQLClient, factory: Factory, db: Database, status: str, paid: str
) -> None:
    staff = await staff_session(gql, factory)
    invoice = await factory.invoice(staff.tenant.contact_a, status=status)
    await factory.payment(staff.tenant.contact_a, [(invoice, Decimal(paid))], status="SUCCEEDED")
    before = await snapshot(db, T_INVOICE)
    result = await mutate(gql, VOID_INVOICE, {"id": invoice.gid}, staff.token)
    assert (result["__typename"], result["code"]) == ("VoidInvoiceError", "HAS_PAYMENTS")
    assert await snapshot(db, T_INVOICE) == before


async def test_staff_of_another_organization_gets_not_found(gql: GraphQLClient, factory: Factory, db: Database) -> None:
    victim = await staff_session(gql, factory)
    invoice = await factory.invoice(victim.tenant.contact_a, status="SENT")
    intruder = await staff_session(gql, factory)
    before = (await snapshot(db, T_INVOICE), await snapshot(db, T_ACTIVITY))
    result = await mutate(gql, VOID_INVOICE, {"id": invoice.gid}, intruder.token)
    assert (result["code"], result["field"]) == ("NOT_FOUND", "id")
    assert (await snapshot(db, T_INVOICE), await snapshot(db, T_ACTIVITY)) == before
