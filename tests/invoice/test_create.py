"""createInvoice: kinds, gateways defaulting to the organization's, balance, validation, tenant isolation."""

from __future__ import annotations

import pytest

from core.database import Database
from core.scope import T_INVOICE, T_LINE_ITEM
from services.documents.lines import today
from tests.client import GraphQLClient
from tests.factories import Factory
from tests.invoice.helpers import CREATE_INVOICE, line, mutate, snapshot, staff_session


async def test_creates_a_numbered_draft_with_its_balance(gql: GraphQLClient, factory: Factory) -> None:
    # given a staff user whose organization offers card and ACH payments
    staff = await staff_session(gql, factory)
    # when they create an invoice without choosing gateways
    result = await mutate(
        gql,
        CREATE_INVOICE,
        {
            "input": {
                "contactId": staff.tenant.contact_a.gid,
                "dueDate": "2099-01-31",
                "reference": "PO-1",
                "lineItems": [line("Build", "4", "125", taxName="Tax", taxPercent="10")],
            }
        },
        staff.token,
    )
    # then it is a REGULAR draft, its balance is its total, and the client may use every configured gateway
    assert result["__typename"] == "Invoice"
    assert (result["number"], result["kind"], result["status"], result["currency"]) == (
        "INV-000001",
        "REGULAR",
        "DRAFT",
        "USD",
    )
    assert (result["subtotal"], result["taxTotal"], result["total"]) == ("500.00", "50.00", "550.00")
    assert (result["amountPaid"], result["balanceDue"]) == ("0.00", "550.00")
    assert result["paymentGateways"] == ["CARD", "ACH"]
    assert (result["issueDate"], result["dueDate"], result["reference"]) == (today().isoformat(), "2099-01-31", "PO-1")
    assert [entry["kind"] for entry in result["activity"]] == ["created"]


async def test_creates_a_retainer_with_chosen_gateways(gql: GraphQLClient, factory: Factory) -> None:
    staff = await staff_session(gql, factory)
    result = await mutate(
        gql,
        CREATE_INVOICE,
        {
            "input": {
                "contactId": staff.tenant.contact_a.gid,
                "kind": "RETAINER",
                "paymentGateways": ["ACH", "ACH"],
                "lineItems": [line("Advance", "1", "1000")],
            }
        },
        staff.token,
    )
    assert (result["kind"], result["paymentGateways"], result["balanceDue"]) == ("RETAINER", ["ACH"], "1000.00")


async def test_gateways_default_to_none_when_the_organization_has_none(gql: GraphQLClient, factory: Factory) -> None:
    staff = await staff_session(gql, factory, payment_gateways=[])
    result = await mutate(gql, CREATE_INVOICE, {"input": {"contactId": staff.tenant.contact_a.gid}}, staff.token)
    assert result["paymentGateways"] == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"issueDate": "2026-11-02", "dueDate": "2026-11-01"}, "dueDate"),
        ({"lineItems": [line(rate="12.345")]}, "lineItems[0].rate"),
        ({"lineItems": [line(quantity="-1")]}, "lineItems[0].quantity"),
        ({"lineItems": [line(name="x" * 201)]}, "lineItems[0].name"),
        ({"notes": "bell \x07"}, "notes"),
    ],
)
async def test_invalid_input_is_refused(
    gql: GraphQLClient, factory: Factory, db: Database, change: dict[str, object], field: str
) -> None:
    staff = await staff_session(gql, factory)
    result = await mutate(
        gql, CREATE_INVOICE, {"input": {"contactId": staff.tenant.contact_a.gid, **change}}, staff.token
    )
    assert (result["__typename"], result["code"], result["field"]) == ("CreateInvoiceError", "INVALID_INPUT", field)
    assert await snapshot(db, T_INVOICE) == []


async def test_a_gateway_the_organization_has_not_configured_is_refused(
    gql: GraphQLClient, factory: Factory, db: Database
) -> None:
    staff = await staff_session(gql, factory, payment_gateways=["CARD"])
    result = await mutate(
        gql,
        CREATE_INVOICE,
        {"input": {"contactId": staff.tenant.contact_a.gid, "paymentGateways": ["ACH"]}},
        staff.token,
    )
    assert (result["code"], result["field"]) == ("INVALID_INPUT", "paymentGateways")
    assert await snapshot(db, T_INVOICE) == []


async def test_unknown_contact_is_not_found(gql: GraphQLClient, factory: Factory) -> None:
    staff = await staff_session(gql, factory)
    result = await mutate(gql, CREATE_INVOICE, {"input": {"contactId": staff.tenant.person_a.gid}}, staff.token)
    assert (result["code"], result["field"]) == ("NOT_FOUND", "contactId")


async def test_staff_of_another_organization_gets_not_found(gql: GraphQLClient, factory: Factory, db: Database) -> None:
    victim = await staff_session(gql, factory)
    intruder = await staff_session(gql, factory)
    result = await mutate(
        gql,
        CREATE_INVOICE,
        {"input": {"contactId": victim.tenant.contact_a.gid, "lineItems": [line()]}},
        intruder.token,
    )
    assert (result["code"], result["field"]) == ("NOT_FOUND", "contactId")
    assert await snapshot(db, T_INVOICE) == []
    assert await snapshot(db, T_LINE_ITEM) == []
