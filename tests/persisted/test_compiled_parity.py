"""The compiled path answers byte for byte what normal execution answers, and falls back on anything else."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import orjson
import pytest
from httpx import ASGITransport, AsyncClient
from sqlalchemy import event

from app import create_app
from core.persisted import load_manifest, sha256_hex
from core.settings import Settings
from services.documents.lines import LineDraft
from services.persisted_manifest import MANIFEST
from tests.client import GraphQLClient
from tests.factories import PASSWORD, Factory

DOCUMENTS = {text.split("(", 1)[0].split("{", 1)[0].split()[-1]: text for text in load_manifest(MANIFEST).values()}
INVOICE_LIST = DOCUMENTS["InvoiceList"]
DASHBOARD = DOCUMENTS["Dashboard"]
TRICKY = 'Caf\u00e9 \u2013 na\u00efve \u2713 "quoted" \\ back </script> \u0001\u001f\ttab\nline \U0001f600'


@pytest.fixture
async def clients(settings: Settings) -> AsyncIterator[tuple[AsyncClient, AsyncClient, list[int]]]:
    """Two apps on the same database: compiled operations on, and off (normal execution)."""
    compiled = create_app(settings)
    normal = create_app(settings.model_copy(update={"compiled_operations": False}))
    statements: list[int] = [0]
    async with compiled.router.lifespan_context(compiled), normal.router.lifespan_context(normal):
        engine = compiled.state.runtime.db.engine.sync_engine

        def count(*_: Any) -> None:
            statements[0] += 1

        event.listen(engine, "before_cursor_execute", count)
        async with (
            AsyncClient(transport=ASGITransport(app=compiled), base_url="http://portico.test") as fast,
            AsyncClient(transport=ASGITransport(app=normal), base_url="http://portico.test") as slow,
        ):
            yield fast, slow, statements
        event.remove(engine, "before_cursor_execute", count)


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
        LineDraft(name="Big", quantity=Decimal(1000), rate=Decimal("1234.56")),
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
    await factory.invoice(tenant.contact_b, lines=lines)  # another contact of the same organization
    await factory.payment(contact, [(overdue, Decimal("10.00")), (partial, Decimal("5.55"))])
    await factory.payment(contact, [(partial, Decimal("1.00"))], status="PENDING", mode="ACH")
    await factory.comment(overdue, person=tenant.person_a, body=TRICKY)
    await factory.comment(overdue, staff=tenant.owner, body="visible", visible=True)
    await factory.comment(overdue, staff=tenant.owner, body="staff only")
    await factory.estimate(contact)
    await factory.estimate(contact, expiry_date=today - dt.timedelta(days=1))
    other = await factory.tenant()
    yen = await factory.contact(other.org, currency="JPY")
    yen_person = await factory.person(yen)
    await factory.invoice(yen, lines=[LineDraft(name="\u5186", quantity=Decimal(3), rate=Decimal(1999))])
    return {"tenant": tenant, "other": other, "yen_person": yen_person}


def requests() -> list[tuple[str, dict[str, Any]]]:
    """(label, JSON body) pairs covering every way of naming the operations and every variable case."""
    apq = {"persistedQuery": {"version": 1, "sha256Hash": sha256_hex(INVOICE_LIST)}}
    cases: list[tuple[str, dict[str, Any]]] = []
    for first in (None, 0, 1, 2, 50, 100, 101, -1):
        cases.append((f"first={first}", {"documentId": sha256_hex(INVOICE_LIST), "variables": {"first": first}}))
    cases += [
        ("by text", {"query": INVOICE_LIST, "variables": {"first": 2}}),
        ("by apq", {"extensions": apq, "variables": {"first": 2}}),
        ("relay id", {"id": sha256_hex(INVOICE_LIST)}),
        ("bad cursor", {"documentId": sha256_hex(INVOICE_LIST), "variables": {"after": "nonsense"}}),
        ("first as string", {"documentId": sha256_hex(INVOICE_LIST), "variables": {"first": "2"}}),
        ("filter", {"documentId": sha256_hex(INVOICE_LIST), "variables": {"filter": {"status": ["OVERDUE"]}}}),
        ("operationName", {"documentId": sha256_hex(INVOICE_LIST), "operationName": "InvoiceList"}),
        ("wrong operationName", {"documentId": sha256_hex(INVOICE_LIST), "operationName": "Other"}),
        ("null variables", {"documentId": sha256_hex(INVOICE_LIST), "variables": None}),
        ("dashboard", {"documentId": sha256_hex(DASHBOARD)}),
        ("dashboard with variables", {"documentId": sha256_hex(DASHBOARD), "variables": {"x": 1}}),
    ]
    return cases


async def test_compiled_answers_equal_normal_execution_byte_for_byte(
    clients: tuple[AsyncClient, AsyncClient, list[int]], factory: Factory, gql: GraphQLClient
) -> None:
    fast, slow, statements = clients
    data = await fixture_data(factory)
    tenant = data["tenant"]
    viewers = {
        "portal": await gql.login(tenant.person_a.email, PASSWORD, portal=tenant.org.portal_slug),
        "portal JPY": await gql.login(data["yen_person"].email, PASSWORD, portal=data["other"].org.portal_slug),
        "staff": await gql.login(tenant.owner.email, PASSWORD),
        "anonymous": None,
        "bad token": "not-a-token",
    }
    compiled_hits = 0
    for viewer, token in viewers.items():
        headers = {"authorization": f"Bearer {token}"} if token else {}
        for accept in ("application/json", "application/graphql-response+json"):
            for label, body in requests():
                request_headers = {**headers, "accept": accept}
                cursor_case = label == "first=1"
                statements[0] = 0
                expected = await slow.post("/graphql", json=body, headers=request_headers)
                answer = await fast.post("/graphql", json=body, headers=request_headers)
                where = f"{viewer} / {accept} / {label}"
                assert answer.content == expected.content, where
                assert answer.status_code == expected.status_code, where
                assert answer.headers["content-type"] == expected.headers["content-type"], where
                assert answer.headers.get("vary") == expected.headers.get("vary"), where
                if cursor_case and viewer == "portal":  # page on with the cursor the first page gave
                    end = orjson.loads(answer.content)["data"]["invoices"]["pageInfo"]["endCursor"]
                    body2 = {"documentId": sha256_hex(INVOICE_LIST), "variables": {"first": 1, "after": end}}
                    a2 = await fast.post("/graphql", json=body2, headers=request_headers)
                    e2 = await slow.post("/graphql", json=body2, headers=request_headers)
                    assert a2.content == e2.content and b"INV-" in a2.content, where
        # the compiled path really answered the portal's cases: authentication plus one statement
    for _label, body in requests()[:5]:
        statements[0] = 0
        answer = await fast.post("/graphql", json=body, headers={"authorization": f"Bearer {viewers['portal']}"})
        assert answer.status_code == 200
        compiled_hits += statements[0] <= 2
    assert compiled_hits == 5
    content = (
        await fast.post(
            "/graphql",
            json={"documentId": sha256_hex(INVOICE_LIST)},
            headers={"authorization": f"Bearer {viewers['portal']}"},
        )
    ).content
    parsed = orjson.loads(content)["data"]["invoices"]
    assert parsed["totalCount"] == 4  # no draft, nothing of contact B
    assert any(line["name"] == TRICKY for edge in parsed["edges"] for line in edge["node"]["lineItems"])
