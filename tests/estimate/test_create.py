"""createEstimate: numbering, currency from the contact, totals, validation, tenant isolation."""

from __future__ import annotations

import datetime as dt

import pytest

from core.database import Database
from core.scope import T_ESTIMATE, T_LINE_ITEM
from services.documents.lines import today
from tests.client import GraphQLClient
from tests.factories import Factory
from tests.invoice.helpers import CREATE_ESTIMATE, line, mutate, snapshot, staff_session


async def test_creates_a_numbered_draft_in_the_contacts_currency(gql: GraphQLClient, factory: Factory) -> None:
    # given a staff user and a contact billed in euros
    staff = await staff_session(gql, factory)
    contact = await factory.contact(staff.tenant.org, currency="EUR")
    # when they create two estimates
    first = await mutate(
        gql,
        CREATE_ESTIMATE,
        {
            "input": {
                "contactId": contact.gid,
                "issueDate": "2026-11-02",
                "expiryDate": "2026-12-02",
                "reference": " PO-77 ",
                "notes": "Thanks",
                "terms": "Net 30",
                "lineItems": [
                    line("Design", "2", "50", description="Two days"),
                    line("Hosting", "1", "10.5", taxName="VAT", taxPercent="20"),
                ],
            }
        },
        staff.token,
    )
    second = await mutate(gql, CREATE_ESTIMATE, {"input": {"contactId": contact.gid}}, staff.token)
    # then they are drafts numbered in sequence, in EUR, with totals computed server-side
    assert first["__typename"] == "Estimate"
    assert (first["number"], second["number"]) == ("EST-000001", "EST-000002")
    assert first["status"] == "DRAFT"
    assert first["currency"] == "EUR"
    assert (first["subtotal"], first["taxTotal"], first["total"]) == ("110.50", "2.10", "112.60")
    assert (first["issueDate"], first["expiryDate"]) == ("2026-11-02", "2026-12-02")
    assert (first["reference"], first["notes"], first["terms"]) == ("PO-77", "Thanks", "Net 30")
    assert [(item["position"], item["name"], item["amount"], item["taxAmount"]) for item in first["lineItems"]] == [
        (1, "Design", "100.00", "0.00"),
        (2, "Hosting", "10.50", "2.10"),
    ]
    assert first["lineItems"][0]["description"] == "Two days"
    assert [entry["kind"] for entry in first["activity"]] == ["created"]
    # and an estimate without dates or lines starts today and is empty
    assert second["issueDate"] == today().isoformat()
    assert (second["expiryDate"], second["total"], second["lineItems"]) == (None, "0.00", [])


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"expiryDate": "2026-10-01"}, "expiryDate"),
        ({"lineItems": [line(name="  ")]}, "lineItems[0].name"),
        ({"lineItems": [line(quantity="0")]}, "lineItems[0].quantity"),
        ({"lineItems": [line(quantity="1.00001")]}, "lineItems[0].quantity"),
        ({"lineItems": [line(), line(rate="19.999")]}, "lineItems[1].rate"),
        ({"lineItems": [line(rate="-1")]}, "lineItems[0].rate"),
        ({"lineItems": [line(discountPercent="100.5")]}, "lineItems[0].discountPercent"),
        ({"lineItems": [line(taxPercent="-5")]}, "lineItems[0].taxPercent"),
        ({"lineItems": [line(quantity="9999999999", rate="999999999")]}, "lineItems"),
        ({"reference": "x" * 101}, "reference"),
    ],
)
async def test_invalid_input_is_refused(
    gql: GraphQLClient, factory: Factory, db: Database, change: dict[str, object], field: str
) -> None:
    # given a staff user and a contact
    staff = await staff_session(gql, factory)
    # when the input breaks a rule
    result = await mutate(
        gql,
        CREATE_ESTIMATE,
        {"input": {"contactId": staff.tenant.contact_a.gid, "issueDate": "2026-11-02", **change}},
        staff.token,
    )
    # then nothing is created and the error names the field
    assert (result["__typename"], result["code"], result["field"]) == ("CreateEstimateError", "INVALID_INPUT", field)
    assert await snapshot(db, T_ESTIMATE) == []


async def test_unknown_contact_is_not_found(gql: GraphQLClient, factory: Factory) -> None:
    staff = await staff_session(gql, factory)
    for contact_id in ("bm90LWFuLWlk", staff.tenant.owner.gid):
        result = await mutate(gql, CREATE_ESTIMATE, {"input": {"contactId": contact_id}}, staff.token)
        assert (result["code"], result["field"]) == ("NOT_FOUND", "contactId")


async def test_staff_of_another_organization_gets_not_found(gql: GraphQLClient, factory: Factory, db: Database) -> None:
    # given two organizations
    victim = await staff_session(gql, factory)
    intruder = await staff_session(gql, factory)
    # when the intruder's staff creates an estimate for the victim's contact
    result = await mutate(
        gql,
        CREATE_ESTIMATE,
        {"input": {"contactId": victim.tenant.contact_a.gid, "lineItems": [line()]}},
        intruder.token,
    )
    # then the contact does not exist for them, and no estimate, line or number was used
    assert (result["code"], result["field"]) == ("NOT_FOUND", "contactId")
    assert await snapshot(db, T_ESTIMATE) == []
    assert await snapshot(db, T_LINE_ITEM) == []
    created = await mutate(gql, CREATE_ESTIMATE, {"input": {"contactId": victim.tenant.contact_a.gid}}, victim.token)
    assert created["number"] == "EST-000001"


async def test_expiry_may_equal_the_issue_date(gql: GraphQLClient, factory: Factory) -> None:
    staff = await staff_session(gql, factory)
    day = dt.date(2026, 11, 2).isoformat()
    result = await mutate(
        gql,
        CREATE_ESTIMATE,
        {"input": {"contactId": staff.tenant.contact_a.gid, "issueDate": day, "expiryDate": day}},
        staff.token,
    )
    assert result["expiryDate"] == day
