"""The demo data shows what the portal's daily work needs: a dashboard with something in every figure,
estimates to answer, a statement, comments both ways, reviews."""

from __future__ import annotations

import datetime as dt

from core.database import Database
from core.settings import Settings
from services.demo.seed import DEMO_CLIENT_PASSWORD, DEMO_OWNER_PASSWORD, seed_demo
from tests.client import GraphQLClient

PORTAL = """query($from: Date!, $to: Date!) {
  dashboard { outstandingTotal outstandingCount retainerInvoices { count } lastPayment { mode }
              estimatesAwaitingApproval }
  statement(from: $from, to: $to) { openingBalance closingBalance entries { kind } }
  invoices(first: 100) { edges { node { status viewed payments { amount } taxes { amount } commentCount } } }
  estimates(first: 100) { edges { node { status viewed signatureName declineReason commentCount
    comments { edges { node { authorKind } } } } } }
  reviews { totalCount }
}"""


async def test_the_demo_shows_every_portal_state(gql: GraphQLClient, db: Database, settings: Settings) -> None:
    await seed_demo(db, settings)
    client = await gql.login("client@demo.portico.test", DEMO_CLIENT_PASSWORD, portal="demo")
    today = dt.date.today()
    data = await gql(PORTAL, {"from": (today - dt.timedelta(days=90)).isoformat(), "to": today.isoformat()}, as_=client)
    dashboard = data["dashboard"]
    assert dashboard["outstandingCount"] == 3  # SENT, OVERDUE, PARTIALLY_PAID
    assert dashboard["retainerInvoices"]["count"] == 1
    assert dashboard["lastPayment"]["mode"] == "CHECK"
    assert dashboard["estimatesAwaitingApproval"] == 2
    statement = data["statement"]
    assert {entry["kind"] for entry in statement["entries"]} == {"INVOICE", "PAYMENT"}
    invoices = [edge["node"] for edge in data["invoices"]["edges"]]
    assert any(i["status"] == "PARTIALLY_PAID" and len(i["payments"]) == 2 for i in invoices)
    assert any(not i["viewed"] for i in invoices) and any(i["viewed"] for i in invoices)
    assert any(i["taxes"] for i in invoices) and any(i["commentCount"] for i in invoices)
    estimates = [edge["node"] for edge in data["estimates"]["edges"]]
    assert any(e["signatureName"] for e in estimates) and any(e["declineReason"] for e in estimates)
    commented = next(e for e in estimates if e["commentCount"])
    assert sorted(c["node"]["authorKind"] for c in commented["comments"]["edges"]) == ["CLIENT", "STAFF"]
    assert data["reviews"]["totalCount"] == 1
    # staff see the staff-only comment too, and the organization's reviews with their average
    owner = await gql.login("owner@demo.portico.test", DEMO_OWNER_PASSWORD)
    staff = await gql(
        "{ reviews { totalCount averageRating } estimates(first: 100) { edges { node { commentCount } } } }", as_=owner
    )
    assert (staff["reviews"]["totalCount"], staff["reviews"]["averageRating"]) == (2, "4.50")
    assert max(edge["node"]["commentCount"] for edge in staff["estimates"]["edges"]) == 3
