"""The demo data (``python app.py seed-demo``): its logins, what each of them sees, every status, idempotency."""

from __future__ import annotations

from collections import Counter, defaultdict
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlmodel import SQLModel

from core.database import Database
from core.scope import T_ALLOCATION, T_INVOICE, T_PAYMENT
from core.settings import Settings
from schema.estimates.types import EstimateStatus
from schema.invoices.types import InvoiceStatus
from services.demo.seed import DEMO_LOGINS, SeedResult, seed_demo, seed_demo_data
from tests.client import GraphQLClient

OVERVIEW = """{
  contacts { totalCount edges { node { id displayName } } }
  estimates(first: 100) { totalCount edges { node { id status contact { id displayName } } } }
  invoices(first: 100) { totalCount edges { node {
    id status kind viewed total amountPaid balanceDue contact { id displayName } } } }
  projects { totalCount edges { node { id name tasks { billable loggedHours billedHours unbilledHours }
    comments { totalCount edges { node { authorKind visibleInPortal } } } } } }
  payments { totalCount edges { node { amount allocations { amount } } } }
}"""

DEMO = {login.email: login for login in DEMO_LOGINS}


@pytest.fixture
async def seeded(db: Database, settings: Settings) -> SeedResult:
    return await seed_demo(db, settings)


async def _login(gql: GraphQLClient, email: str) -> str:
    login = DEMO[email]
    return await gql.login(login.email, login.password, portal=login.portal)


def _nodes(data: dict[str, Any], key: str) -> list[dict[str, Any]]:
    return [edge["node"] for edge in data[key]["edges"]]


async def test_first_run_creates_both_organizations(seeded: SeedResult) -> None:
    assert (seeded.created, seeded.skipped) == (["demo", "rival"], {})


async def test_every_demo_login_signs_in(gql: GraphQLClient, seeded: SeedResult) -> None:
    for login in DEMO_LOGINS:
        token = await gql.login(login.email, login.password, portal=login.portal)
        query = "{ me { __typename ... on StaffUser { email } ... on ContactPerson { personEmail: email } } }"
        me = (await gql(query, as_=token))["me"]
        assert me.get("email", me.get("personEmail")) == login.email
        assert me["__typename"] == ("ContactPerson" if login.portal else "StaffUser")


async def test_the_second_acme_person_is_not_invited(gql: GraphQLClient, seeded: SeedResult) -> None:
    token = await _login(gql, "owner@demo.portico.test")
    data = await gql("{ contacts { edges { node { displayName persons { email portalStatus } } } } }", as_=token)
    acme = next(node for node in _nodes(data, "contacts") if node["displayName"] == "Acme Corp")
    assert [person["portalStatus"] for person in acme["persons"]] == ["ACTIVE", "NOT_INVITED"]


@pytest.mark.parametrize(
    ("email", "contacts", "documents_each", "projects"),
    [("owner@demo.portico.test", {"Acme Corp", "Globex"}, 14, 2), ("owner@rival.portico.test", {"Initech"}, 7, 1)],
)
async def test_staff_see_only_their_organization(
    gql: GraphQLClient, seeded: SeedResult, email: str, contacts: set[str], documents_each: int, projects: int
) -> None:
    # given the seeded demo, when an owner looks at everything
    data = await gql(OVERVIEW, as_=await _login(gql, email))
    # then they see their organization's contacts, documents, projects and payments, and nothing else
    assert {node["displayName"] for node in _nodes(data, "contacts")} == contacts
    assert data["estimates"]["totalCount"] == data["invoices"]["totalCount"] == documents_each
    assert data["projects"]["totalCount"] == projects
    assert data["payments"]["totalCount"] == 2 * len(contacts)
    for key in ("estimates", "invoices"):
        assert {node["contact"]["displayName"] for node in _nodes(data, key)} == contacts


async def test_staff_cannot_reach_the_other_organization_by_id(gql: GraphQLClient, seeded: SeedResult) -> None:
    demo = await gql(OVERVIEW, as_=await _login(gql, "owner@demo.portico.test"))
    rival = await _login(gql, "owner@rival.portico.test")
    for key in ("contacts", "invoices", "estimates", "projects"):
        node_id = _nodes(demo, key)[0]["id"]
        assert (await gql("query($id: ID!) { node(id: $id) { id } }", {"id": node_id}, as_=rival))["node"] is None


@pytest.mark.parametrize(
    ("email", "contact"),
    [
        ("client@demo.portico.test", "Acme Corp"),
        ("other@demo.portico.test", "Globex"),
        ("client@rival.portico.test", "Initech"),
    ],
)
async def test_portal_users_see_only_their_contacts_non_draft_documents(
    gql: GraphQLClient, seeded: SeedResult, email: str, contact: str
) -> None:
    data = await gql(OVERVIEW, as_=await _login(gql, email))
    assert [node["displayName"] for node in _nodes(data, "contacts")] == [contact]
    for key, statuses in (("estimates", EstimateStatus), ("invoices", InvoiceStatus)):
        nodes = _nodes(data, key)
        assert {node["contact"]["displayName"] for node in nodes} == {contact}
        # every status but DRAFT, one document each except where the demo has more
        assert {node["status"] for node in nodes} == {status.value for status in statuses} - {"DRAFT"}
    assert data["estimates"]["totalCount"] == data["invoices"]["totalCount"] == 6
    assert data["payments"]["totalCount"] == 2
    (project,) = _nodes(data, "projects")
    assert all(task["billable"] for task in project["tasks"])
    # the client's comment and the portal-visible staff reply; never the staff-only note
    comments = _nodes(project, "comments")
    assert sorted((c["authorKind"], c["visibleInPortal"]) for c in comments) == [("CLIENT", True), ("STAFF", True)]


async def test_every_status_for_every_portal_contact(gql: GraphQLClient, seeded: SeedResult) -> None:
    by_contact: dict[str, dict[str, Counter[str]]] = defaultdict(lambda: defaultdict(Counter))
    for email in ("owner@demo.portico.test", "owner@rival.portico.test"):
        data = await gql(OVERVIEW, as_=await _login(gql, email))
        for key in ("estimates", "invoices"):
            for node in _nodes(data, key):
                by_contact[node["contact"]["displayName"]][key][node["status"]] += 1
        for node in _nodes(data, "invoices"):
            by_contact[node["contact"]["displayName"]]["kinds"][node["kind"]] += 1
            if node["status"] == "SENT" and not node["viewed"]:
                by_contact[node["contact"]["displayName"]]["flags"]["sent never viewed"] += 1
    assert set(by_contact) == {"Acme Corp", "Globex", "Initech"}
    for counts in by_contact.values():
        assert set(counts["estimates"]) == {status.value for status in EstimateStatus}
        assert set(counts["invoices"]) == {status.value for status in InvoiceStatus}
        assert counts["estimates"]["SENT"] == 2  # both unexpired: EXPIRED is reported as such
        assert counts["kinds"]["RETAINER"] == 1
        assert counts["flags"]["sent never viewed"] >= 1


async def test_projects_have_billed_unbilled_and_non_billable_time(gql: GraphQLClient, seeded: SeedResult) -> None:
    data = await gql(OVERVIEW, as_=await _login(gql, "owner@demo.portico.test"))
    for project in _nodes(data, "projects"):
        tasks = project["tasks"]
        assert [task["billable"] for task in tasks].count(False) == 1
        assert any(Decimal(task["billedHours"]) > 0 for task in tasks)
        assert any(Decimal(task["unbilledHours"]) > 0 for task in tasks if task["billable"])
        for task in tasks:
            assert Decimal(task["loggedHours"]) == Decimal(task["billedHours"]) + Decimal(task["unbilledHours"])
        staff_only = [c for c in _nodes(project, "comments") if not c["visibleInPortal"]]
        assert [c["authorKind"] for c in staff_only] == ["STAFF"]


async def test_amounts_paid_equal_the_allocations(db: Database, seeded: SeedResult) -> None:
    allocated = (
        select(T_ALLOCATION.c.invoice_id, func.sum(T_ALLOCATION.c.amount).label("paid"))
        .group_by(T_ALLOCATION.c.invoice_id)
        .subquery()
    )
    async with db.session() as session:
        invoices = (
            await session.execute(
                select(T_INVOICE, func.coalesce(allocated.c.paid, 0).label("allocated")).outerjoin(
                    allocated, allocated.c.invoice_id == T_INVOICE.c.id
                )
            )
        ).all()
        payments = (
            await session.execute(
                select(T_PAYMENT.c.amount, func.sum(T_ALLOCATION.c.amount), func.count(T_ALLOCATION.c.id))
                .join(T_ALLOCATION, T_ALLOCATION.c.payment_id == T_PAYMENT.c.id)
                .group_by(T_PAYMENT.c.id)
            )
        ).all()
    for invoice in invoices:
        assert invoice.amount_paid == invoice.allocated
        assert invoice.balance_due == invoice.total - invoice.amount_paid
        assert (invoice.status == "PAID") == (invoice.balance_due == 0 and invoice.total > 0)
        if invoice.status == "PARTIALLY_PAID":
            assert 0 < invoice.amount_paid < invoice.total
    assert all(amount == allocated for amount, allocated, _ in payments)
    assert sorted(count for _, _, count in payments) == [1, 1, 1, 2, 2, 2]  # one payment per contact spans two


async def test_seeding_twice_changes_nothing(db: Database, settings: Settings, seeded: SeedResult) -> None:
    # given a seeded database
    before = await _row_counts(db)
    # when the seed runs again
    again = await seed_demo(db, settings)
    # then it creates nothing and every table has the same rows
    assert again.created == []
    assert set(again.skipped) == {"demo", "rival"}
    assert await _row_counts(db) == before
    assert before["invoice"] == 21 and before["time_entry"] == 21


async def test_the_command_prints_the_graphiql_url_and_the_logins(
    settings: Settings, db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    # the CLI's entry point on the test database (settings.database_url names it)
    result = await seed_demo_data(settings)
    output = capsys.readouterr().out
    assert result.created == ["demo", "rival"]
    assert f"{settings.public_portal_url}/graphql" in output
    for login in DEMO_LOGINS:
        assert login.email in output and login.password in output


async def _row_counts(db: Database) -> dict[str, int]:
    async with db.session() as session:
        return {
            table.name: int(await session.scalar(select(func.count()).select_from(table)) or 0)
            for table in SQLModel.metadata.sorted_tables
        }
