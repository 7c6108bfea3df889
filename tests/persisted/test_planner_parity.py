"""The planned read path answers exactly what normal execution answers — the same JSON, keys in the same order
(PostgreSQL writes it with spaces after separators) — for portal users and staff, and leaves to normal execution
whatever it does not plan (and every error)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import orjson
import pytest
from httpx import ASGITransport, AsyncClient

from app import create_app
from core.ids import to_global_id
from core.settings import Settings
from services.documents.lines import LineDraft
from tests.factories import Factory
from tests.subscriptions.conftest import Sessions

TRICKY = 'Caf\u00e9 \u2013 na\u00efve \u2713 "quoted" \\ back </script> \u0001\u001f\ttab\nline \U0001f600'

INVOICE_FIELDS = """id number reference status kind issueDate dueDate currency subtotal taxTotal total amountPaid
  balanceDue paymentGateways notes terms sentAt createdAt viewed viewedAt commentCount __typename
  lineItems { position name description quantity rate discountPercent taxName taxPercent amount taxAmount }
  taxes { name percent amount }
  payments { amount paymentDate mode status reference payment { id amount currency paymentDate notes createdAt } }
  contact { id displayName companyName email currency notes billingAddress { street1 city country zip } }"""
ESTIMATE_FIELDS = """id number reference status issueDate expiryDate currency subtotal taxTotal total notes terms
  sentAt acceptedAt signatureName declinedAt declineReason acceptedIp createdAt viewed viewedAt commentCount
  lineItems { name quantity rate amount } taxes { name percent amount }"""
CONNECTION = """totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor __typename }
  edges { cursor __typename node { %s } } __typename"""

PLANNED = {
    "invoice list": (
        "query($first: Int, $after: String) { invoices(first: $first, after: $after) { %s } }"
        % (CONNECTION % INVOICE_FIELDS)
    ),
    "estimate list": "query($first: Int, $after: String) { estimates(first: $first, after: $after) { %s } }"
    % (CONNECTION % ESTIMATE_FIELDS),
    "comments": """query($first: Int) { invoices(first: 10) { edges { node { number
      comments(first: $first) { totalCount pageInfo { hasNextPage endCursor startCursor }
        edges { cursor node { id body visibleInPortal authorKind authorName createdAt } } } } } } }""",
    "aliases and fragments": """query { a: invoices(first: 2) { edges { node { ...Inv } } }
      b: invoices(first: 1) { totalCount } e: estimates { edges { node { ... on Estimate { n: number total } } } } }
      fragment Inv on Invoice { n: number total id number lineItems { amount } }""",
    "directives": """query($with: Boolean!, $without: Boolean!) { invoices(first: 3) { edges { node {
      number total @include(if: $with) balanceDue @skip(if: $without) } } } }""",
    "one invoice": "query($id: ID!) { invoice(id: $id) { "
    + INVOICE_FIELDS
    + " comments { edges { node { body } } } } }",
    "one estimate": "query($id: ID!) { estimate(id: $id) { " + ESTIMATE_FIELDS + " } }",
    "empty page": "{ invoices(first: 0) { totalCount pageInfo { hasNextPage startCursor endCursor } "
    "edges { cursor } } }",
    "typename only": "{ __typename invoices { __typename } }",
    "dashboard": """{ dashboard { __typename currency outstandingTotal outstandingCount
      outstandingFilter { status kind } outstandingByCurrency { currency total count }
      retainerInvoices { total count filter { status kind } } overdue { total count filter { status kind } }
      lastPayment { id amount currency paymentDate mode status notes } estimatesAwaitingApproval
      estimatesAwaitingApprovalFilter { status } } }""",
}
NOT_PLANNED = {
    "a field outside the catalog": "{ invoices { edges { node { activity { kind } } } } }",
    "a filter": "{ invoices(filter: {status: [SENT]}) { totalCount } }",
    "a mutation": "mutation { logout }",
    "a bad cursor": '{ invoices(after: "WyIyMDI2LTAxLTAxIiwgMTAwMDAwMDAwMDAwMDAwMDAwMDAwMF0") { totalCount } }',
    "first out of range": "{ invoices(first: 101) { totalCount } }",
    "an invalid document": "{ invoices { nope } }",
}


@pytest.fixture
async def apps(settings: Settings) -> AsyncIterator[tuple[AsyncClient, AsyncClient]]:
    """Two apps on one database: the planned read path on, and off (normal execution)."""
    on = create_app(settings.model_copy(update={"path_header": True}))
    off = create_app(settings.model_copy(update={"planned_reads": False}))
    async with on.router.lifespan_context(on), off.router.lifespan_context(off):
        async with (
            AsyncClient(transport=ASGITransport(app=on), base_url="http://portico.test") as planned,
            AsyncClient(transport=ASGITransport(app=off), base_url="http://portico.test") as normal,
        ):
            yield planned, normal


async def fixture_data(factory: Factory) -> dict[str, Any]:
    tenant = await factory.tenant()
    contact = tenant.contact_a
    today = dt.date.today()
    lines = [
        LineDraft(
            name=TRICKY,
            quantity=Decimal("1.5"),
            rate=Decimal("19.99"),
            discount_percent=Decimal(10),
            tax_name="VAT \u00e9",
            tax_percent=Decimal("8.25"),
        ),
        LineDraft(
            name="Big",
            quantity=Decimal(1000),
            rate=Decimal("1234.56"),
            tax_name="VAT \u00e9",
            tax_percent=Decimal("8.25"),
        ),
        LineDraft(name="Reduced", quantity=Decimal("2.250"), rate=Decimal("10"), tax_percent=Decimal(5)),
        LineDraft(name="Free", quantity=Decimal(0), rate=Decimal(0)),
    ]
    overdue = await factory.invoice(
        contact,
        lines=lines,
        due_date=today - dt.timedelta(days=3),
        issue_date=today - dt.timedelta(days=40),
        notes=TRICKY,
    )
    partial = await factory.invoice(contact, lines=lines[:1], issue_date=today - dt.timedelta(days=10))
    await factory.invoice(contact, lines=[], issue_date=today - dt.timedelta(days=10), due_date=None, kind="RETAINER")
    await factory.invoice(contact, lines=lines[1:], issue_date=today - dt.timedelta(days=5), status="VOID")
    await factory.invoice(contact, lines=lines, status="DRAFT")
    await factory.invoice(contact, lines=lines[2:], currency="JPY", issue_date=today - dt.timedelta(days=2))
    await factory.invoice(contact, lines=lines[:1], currency="KWD", issue_date=today - dt.timedelta(days=2))
    other = await factory.invoice(tenant.contact_b, lines=lines)
    await factory.payment(contact, [(overdue, Decimal("10.00")), (partial, Decimal("5.55"))], notes="staff note")
    await factory.payment(contact, [(partial, Decimal("1.00"))], status="PENDING", mode="ACH")
    for body, kwargs in (
        (TRICKY, {"person": tenant.person_a}),
        ("hidden", {"staff": tenant.owner}),
        ("shown", {"staff": tenant.owner, "visible": True}),
        ("again", {"person": tenant.person_a}),
    ):
        await factory.comment(overdue, body=body, **kwargs)
    estimates = [
        await factory.estimate(contact, lines=lines, issue_date=today - dt.timedelta(days=n), status=status, **extra)
        for n, status, extra in (
            (1, "SENT", {}),
            (2, "SENT", {"expiry_date": today - dt.timedelta(days=1)}),
            (3, "ACCEPTED", {"signature_name": TRICKY, "accepted_ip": "203.0.113.7"}),
            (4, "DECLINED", {"decline_reason": "too dear"}),
            (5, "DRAFT", {}),
        )
    ]
    return {"tenant": tenant, "overdue": overdue, "other": other, "estimates": estimates}


def same_json(a: bytes, b: bytes) -> bool:
    """Equal JSON, objects' keys in the same order (bytes may differ in insignificant white space)."""

    def ordered(body: bytes) -> Any:
        return json.loads(body, object_pairs_hook=lambda pairs: ("object", pairs))

    return bool(ordered(a) == ordered(b))


async def both(
    planned: AsyncClient, normal: AsyncClient, query: str, variables: dict[str, Any], token: str
) -> tuple[Any, Any]:
    body = {"query": query, "variables": variables}
    headers = {"authorization": f"Bearer {token}", "accept": "application/json"}
    return await planned.post("/graphql", json=body, headers=headers), await normal.post(
        "/graphql", json=body, headers=headers
    )


async def test_planned_answers_are_normal_executions_answers(
    apps: tuple[AsyncClient, AsyncClient], factory: Factory, sessions: Sessions
) -> None:
    planned, normal = apps
    data = await fixture_data(factory)
    tenant = data["tenant"]
    viewers = {
        "portal": await sessions.portal(tenant.person_a),
        "colleague of another contact": await sessions.portal(tenant.person_b),
        "staff": await sessions.staff(tenant.owner),
    }
    ids = [data["overdue"].gid, data["other"].gid, data["estimates"][0].gid, "not-an-id"]
    cases: list[tuple[str, dict[str, Any]]] = []
    for name in PLANNED:
        if name == "one invoice":
            cases += [(name, {"id": i}) for i in ids]
        elif name == "one estimate":
            cases += [(name, {"id": e.gid}) for e in data["estimates"]] + [(name, {"id": data["overdue"].gid})]
        elif name == "directives":
            cases += [(name, {"with": w, "without": wo}) for w in (True, False) for wo in (True, False)]
        elif name in ("invoice list", "estimate list"):
            cases += [(name, {}), (name, {"first": 2}), (name, {"first": 1})]
        elif name == "comments":
            cases += [(name, {}), (name, {"first": 1}), (name, {"first": 0})]
        else:
            cases.append((name, {}))
    compared = 0
    for viewer, token in viewers.items():
        for name, variables in cases:
            fast, slow = await both(planned, normal, PLANNED[name], variables, token)
            assert fast.headers.get("x-portico-path") == "planned", (viewer, name, fast.text[:500])
            assert same_json(fast.content, slow.content), (viewer, name, variables, fast.text[:2000], slow.text[:2000])
            compared += 1
            # the next page, through the cursor each path handed out
            if name in ("invoice list", "estimate list") and variables.get("first"):
                page = orjson.loads(fast.content)["data"]
                end = next(iter(page.values()))["pageInfo"]["endCursor"]
                if end:
                    fast, slow = await both(planned, normal, PLANNED[name], {**variables, "after": end}, token)
                    assert same_json(fast.content, slow.content), (
                        viewer,
                        name,
                        "next",
                        fast.text[:2000],
                        slow.text[:2000],
                    )
    assert compared >= 3 * 20


async def test_what_is_not_planned_is_answered_by_normal_execution(
    apps: tuple[AsyncClient, AsyncClient], factory: Factory, sessions: Sessions
) -> None:
    planned, normal = apps
    data = await fixture_data(factory)
    token = await sessions.portal(data["tenant"].person_a)
    for name, query in NOT_PLANNED.items():
        fast, slow = await both(planned, normal, query, {}, token)
        assert fast.headers.get("x-portico-path") == "executed", name
        if name != "a mutation":  # (logout ends the session: compare the rest with a live one)
            assert fast.content == slow.content, (name, fast.text, slow.text)
    # no session, a revoked one, a bad token: normal execution answers (UNAUTHENTICATED) in both
    for token_value in ("not-a-token", to_global_id("Invoice", 1)):
        fast, slow = await both(planned, normal, "{ invoices { totalCount } }", {}, token_value)
        assert fast.headers.get("x-portico-path") == "executed"
        assert fast.content == slow.content
