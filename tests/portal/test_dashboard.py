"""dashboard: outstanding invoices, retainers, the last payment and estimates awaiting approval."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from services.documents.lines import LineDraft
from tests.client import GraphQLClient
from tests.factories import Factory, Row
from tests.portal.conftest import World

DASHBOARD = """{ dashboard {
  currency outstandingTotal outstandingCount outstandingFilter { status kind }
  outstandingByCurrency { currency total count }
  retainerInvoices { total count filter { status kind } }
  overdue { total count filter { status kind } }
  lastPayment { id amount paymentDate mode status }
  estimatesAwaitingApproval estimatesAwaitingApprovalFilter { status } } }"""
INVOICES = """query($filter: InvoiceFilter) { invoices(filter: $filter, first: 100) {
  totalCount edges { node { number balanceDue } } } }"""
ESTIMATES = "query($filter: EstimateFilter) { estimates(filter: $filter) { totalCount } }"

TODAY = dt.date.today()


def lines(amount: str) -> list[LineDraft]:
    return [LineDraft(name="Work", quantity=Decimal(1), rate=Decimal(amount))]


async def contact_documents(factory: Factory, contact: Row) -> None:
    """Invoices and estimates in every state; outstanding: 100 + 200 + 180 (regular), 500 (retainer)."""
    await factory.invoice(contact, lines=lines("100"))  # SENT
    await factory.invoice(contact, lines=lines("200"), due_date=TODAY - dt.timedelta(days=3))  # OVERDUE
    partial = await factory.invoice(contact, lines=lines("300"), status="PARTIALLY_PAID")
    await factory.invoice(contact, lines=lines("50"), status="PAID", amount_paid=Decimal(50))
    await factory.invoice(contact, lines=lines("70"), status="DRAFT")
    await factory.invoice(contact, lines=lines("80"), status="VOID", amount_paid=Decimal(80))  # nothing owed
    await factory.invoice(contact, lines=lines("500"), kind="RETAINER")
    await factory.invoice(contact, lines=lines("40"), kind="RETAINER", status="DRAFT")
    await factory.payment(contact, [(partial, Decimal(120))], payment_date=TODAY - dt.timedelta(days=10))
    await factory.estimate(contact)  # SENT, unexpired
    await factory.estimate(contact, expiry_date=None)  # SENT, never expires
    await factory.estimate(contact, expiry_date=TODAY - dt.timedelta(days=1))  # EXPIRED
    await factory.estimate(contact, status="DRAFT")
    await factory.estimate(contact, status="ACCEPTED")
    await factory.estimate(contact, status="DECLINED")


async def test_portal_dashboard_counts_the_contacts_documents(
    gql: GraphQLClient, factory: Factory, world: World
) -> None:
    # given the client's contact and another contact with documents in every state, and payments
    await contact_documents(factory, world.ours.contact_a)
    await contact_documents(factory, world.ours.contact_b)
    pending = await factory.payment(
        world.ours.contact_a, [], amount=Decimal(10), mode="ACH", status="PENDING", payment_date=TODAY
    )
    await factory.payment(world.ours.contact_a, [], amount=Decimal(5), mode="CARD", status="FAILED", payment_date=TODAY)
    # when the client opens the dashboard
    dashboard = (await gql(DASHBOARD, as_=world.client))["dashboard"]
    # then the figures are their contact's only
    assert dashboard["currency"] == "USD"
    assert (dashboard["outstandingTotal"], dashboard["outstandingCount"]) == ("480.00", 3)
    assert dashboard["outstandingByCurrency"] == [{"currency": "USD", "total": "480.00", "count": 3}]
    assert dashboard["retainerInvoices"]["total"] == "500.00"
    assert dashboard["retainerInvoices"]["count"] == 1
    assert (dashboard["overdue"]["total"], dashboard["overdue"]["count"]) == ("200.00", 1)
    assert dashboard["estimatesAwaitingApproval"] == 2
    # and the last payment is the pending ACH payment (a failed one does not count)
    assert dashboard["lastPayment"] == {
        "id": pending.gid,
        "amount": "10.00",
        "paymentDate": TODAY.isoformat(),
        "mode": "ACH",
        "status": "PENDING",
    }


async def test_the_filter_values_list_exactly_what_the_dashboard_counts(
    gql: GraphQLClient, factory: Factory, world: World
) -> None:
    await contact_documents(factory, world.ours.contact_a)
    dashboard = (await gql(DASHBOARD, as_=world.client))["dashboard"]
    assert dashboard["outstandingFilter"] == {"status": ["SENT", "PARTIALLY_PAID", "OVERDUE"], "kind": "REGULAR"}
    assert dashboard["estimatesAwaitingApprovalFilter"] == {"status": ["SENT"]}
    outstanding = await _list(gql, INVOICES, dashboard["outstandingFilter"], world.client)
    retainers = await _list(gql, INVOICES, dashboard["retainerInvoices"]["filter"], world.client)
    overdue = await _list(gql, INVOICES, dashboard["overdue"]["filter"], world.client)
    assert dashboard["overdue"]["filter"] == {"status": ["OVERDUE"], "kind": "REGULAR"}
    assert overdue["totalCount"] == dashboard["overdue"]["count"] == 1
    assert [edge["node"]["balanceDue"] for edge in overdue["edges"]] == [dashboard["overdue"]["total"]]
    estimates = await _list(gql, ESTIMATES, dashboard["estimatesAwaitingApprovalFilter"], world.client)
    assert outstanding["totalCount"] == dashboard["outstandingCount"]
    assert sum(Decimal(edge["node"]["balanceDue"]) for edge in outstanding["edges"]) == Decimal(
        dashboard["outstandingTotal"]
    )
    assert retainers["totalCount"] == dashboard["retainerInvoices"]["count"] == 1
    assert estimates["totalCount"] == dashboard["estimatesAwaitingApproval"] == 2


async def _list(gql: GraphQLClient, query: str, values: dict[str, Any], token: str) -> dict[str, Any]:
    data = await gql(query, {"filter": values}, as_=token)
    (connection,) = data.values()
    return connection  # type: ignore[no-any-return]


async def test_staff_dashboard_covers_the_organization(gql: GraphQLClient, factory: Factory, world: World) -> None:
    # given two USD contacts and a EUR contact with an outstanding invoice
    await contact_documents(factory, world.ours.contact_a)
    await contact_documents(factory, world.ours.contact_b)
    euro = await factory.contact(world.ours.org, currency="EUR")
    await factory.invoice(euro, lines=lines("99.50"))
    # when staff open the dashboard
    dashboard = (await gql(DASHBOARD, as_=world.staff))["dashboard"]
    # then the totals are the organization's in its base currency, and the euro invoice is listed apart
    assert (dashboard["currency"], dashboard["outstandingTotal"], dashboard["outstandingCount"]) == ("USD", "960.00", 6)
    assert dashboard["outstandingByCurrency"] == [
        {"currency": "EUR", "total": "99.50", "count": 1},
        {"currency": "USD", "total": "960.00", "count": 6},
    ]
    assert (dashboard["retainerInvoices"]["total"], dashboard["estimatesAwaitingApproval"]) == ("1000.00", 4)
    assert (dashboard["overdue"]["total"], dashboard["overdue"]["count"]) == ("400.00", 2)
    assert dashboard["lastPayment"]["amount"] == "120.00"


async def test_an_empty_dashboard_and_other_tenants(gql: GraphQLClient, factory: Factory, world: World) -> None:
    # given documents only in our organization
    await contact_documents(factory, world.ours.contact_a)
    # when the rival organization's staff and client open their dashboards
    for token in (world.rival_staff, world.rival_client):
        dashboard = (await gql(DASHBOARD, as_=token))["dashboard"]
        # then they see zeros and nothing of ours
        assert (dashboard["outstandingTotal"], dashboard["outstandingCount"]) == ("0.00", 0)
        assert dashboard["outstandingByCurrency"] == []
        assert (dashboard["retainerInvoices"]["count"], dashboard["estimatesAwaitingApproval"]) == (0, 0)
        assert dashboard["lastPayment"] is None
    # and anonymous callers are refused
    assert (await gql.raw(DASHBOARD)).error_codes == ["UNAUTHENTICATED"]
