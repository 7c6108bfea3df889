"""The statement of account: services.statement.compute_statement and the statement PDF."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from httpx import AsyncClient

from core.database import Database
from core.errors import DomainError
from core.scope import PortalScope, StaffScope
from services.documents.lines import LineDraft
from services.statements.compute import compute_statement
from tests.client import GraphQLClient
from tests.documents.pdftext import pdf_lines, value_after
from tests.factories import PASSWORD, Factory, Tenant

D = dt.date


def one_line(amount: int) -> list[LineDraft]:
    return [LineDraft(name="Work", quantity=Decimal(1), rate=Decimal(amount))]


async def history(factory: Factory) -> tuple[Tenant, dict[str, str]]:
    """Contact A: before 2026 invoiced 100, paid 30; in 2026 invoices 250 and 50, a payment of 100."""
    tenant = await factory.tenant()
    a = tenant.contact_a
    old = await factory.invoice(a, lines=one_line(100), issue_date=D(2025, 12, 10))
    await factory.payment(a, [(old, Decimal(30))], payment_date=D(2025, 12, 20))
    b = await factory.invoice(a, lines=one_line(250), issue_date=D(2026, 2, 1), due_date=D(2026, 3, 1))
    await factory.payment(a, [(b, Decimal(100))], payment_date=D(2026, 2, 10), reference="WIRE-7")
    c = await factory.invoice(a, lines=one_line(50), issue_date=D(2026, 3, 1))
    # not on the statement: a draft, a void invoice, one after the period, a failed payment, another contact's
    await factory.invoice(a, lines=one_line(999), issue_date=D(2026, 3, 2), status="DRAFT")
    await factory.invoice(a, lines=one_line(999), issue_date=D(2026, 3, 3), status="VOID")
    await factory.invoice(a, lines=one_line(999), issue_date=D(2027, 1, 5))
    await factory.payment(a, [(c, Decimal(1))], payment_date=D(2026, 3, 4), status="FAILED")
    await factory.invoice(tenant.contact_b, lines=one_line(999), issue_date=D(2026, 3, 1))
    return tenant, {"b": b.number, "c": c.number}


async def test_compute_statement_balances(factory: Factory, db: Database) -> None:
    # given the history above
    tenant, numbers = await history(factory)
    scope = PortalScope(
        organization_id=tenant.org.pk, contact_id=tenant.contact_a.pk, contact_person_id=tenant.person_a.pk
    )
    # when the 2026 statement is computed
    async with db.session() as session:
        statement = await compute_statement(session, scope, tenant.contact_a.pk, D(2026, 1, 1), D(2026, 12, 31))
    # then: opening 70, lines with a running balance, closing 270
    assert statement is not None
    assert statement.opening_balance == Decimal("70.00")
    assert [(line.kind, line.number, line.charge, line.payment, line.balance) for line in statement.lines] == [
        ("INVOICE", numbers["b"], Decimal("250.00"), Decimal("0.00"), Decimal("320.00")),
        ("PAYMENT", "WIRE-7", Decimal("0.00"), Decimal("100.00"), Decimal("220.00")),
        ("INVOICE", numbers["c"], Decimal("50.00"), Decimal("0.00"), Decimal("270.00")),
    ]
    assert statement.lines[1].invoice_numbers == (numbers["b"],)
    assert (statement.invoiced, statement.paid, statement.closing_balance) == (
        Decimal("300.00"),
        Decimal("100.00"),
        Decimal("270.00"),
    )


async def test_compute_statement_scope_and_period(factory: Factory, db: Database) -> None:
    tenant = await factory.tenant()
    rival = await factory.tenant()
    portal_a = PortalScope(
        organization_id=tenant.org.pk, contact_id=tenant.contact_a.pk, contact_person_id=tenant.person_a.pk
    )
    async with db.session() as session:
        # a portal scope cannot read another contact; staff cannot read another organization's contact
        assert await compute_statement(session, portal_a, tenant.contact_b.pk, D(2026, 1, 1), D(2026, 2, 1)) is None
        rival_staff = StaffScope(organization_id=rival.org.pk)
        assert await compute_statement(session, rival_staff, tenant.contact_a.pk, D(2026, 1, 1), D(2026, 2, 1)) is None
        with pytest.raises(DomainError) as reversed_period:
            await compute_statement(session, portal_a, tenant.contact_a.pk, D(2026, 2, 1), D(2026, 1, 1))
        assert reversed_period.value.code == "INVALID_INPUT"
        empty = await compute_statement(session, portal_a, tenant.contact_a.pk, D(2026, 1, 1), D(2026, 2, 1))
    assert empty is not None and empty.lines == () and empty.closing_balance == Decimal("0.00")


async def test_statement_pdf_shows_opening_running_and_closing_balance(
    http: AsyncClient, gql: GraphQLClient, factory: Factory
) -> None:
    # given the history above
    tenant, numbers = await history(factory)
    token = await gql.login(tenant.person_a.email, PASSWORD, portal=tenant.org.portal_slug)
    # when the portal user downloads the 2026 statement
    response = await http.get(
        "/statements.pdf?from=2026-01-01&to=2026-12-31", headers={"authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200
    lines = pdf_lines(response.content)
    # then the summary and each line with its running balance
    assert "STATEMENT" in lines and tenant.contact_a.display_name in lines
    assert value_after(lines, "Period") == "Jan 1, 2026 – Dec 31, 2026"
    assert value_after(lines, "Invoiced") == "$300.00"
    assert value_after(lines, "Payments") == "$100.00"
    opening = [lines[i + 1] for i, line in enumerate(lines) if line == "Opening balance"]
    assert opening == ["$70.00", "$70.00"]  # summary and first table row
    invoice_b = lines.index(f"Invoice {numbers['b']} (due Mar 1, 2026)")
    assert lines[invoice_b - 1 : invoice_b + 3] == [
        "Feb 1, 2026",
        f"Invoice {numbers['b']} (due Mar 1, 2026)",
        "$250.00",
        "$320.00",
    ]
    payment = lines.index(f"Payment for {numbers['b']} · ref. WIRE-7")
    assert lines[payment - 1 : payment + 3] == [
        "Feb 10, 2026",
        f"Payment for {numbers['b']} · ref. WIRE-7",
        "$100.00",
        "$220.00",
    ]
    invoice_c = next(i for i, line in enumerate(lines) if line.startswith(f"Invoice {numbers['c']}"))
    assert lines[invoice_c + 1 : invoice_c + 3] == ["$50.00", "$270.00"]
    closing = [lines[i + 1] for i, line in enumerate(lines) if line == "Closing balance"]
    assert closing == ["$270.00", "$270.00"]
    assert value_after(lines, "Balance due") == "$270.00"
    assert not any("999" in line for line in lines)
