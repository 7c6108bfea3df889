"""The portal invoice list costs the same number of SQL statements for 5 invoices as for 50: one, planned; and a
fixed few through normal execution's loaders."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest
from httpx import ASGITransport, AsyncClient

from app import create_app
from core.database import Database
from core.settings import Settings
from services.documents.lines import LineDraft
from tests.client import GraphQLClient
from tests.factories import Factory
from tests.portal.conftest import World, statements

INVOICE_LIST = """{ invoices(first: 100) { totalCount edges { node {
  id number status total balanceDue commentCount
  lineItems { name quantity rate amount taxAmount }
  taxes { name amount }
  payments { amount paymentDate mode status payment { id amount } }
  contact { displayName } } } } }"""


async def _add_invoices(factory: Factory, world: World, count: int) -> None:
    lines = [
        LineDraft(name="Design", quantity=Decimal(3), rate=Decimal(80), tax_name="VAT", tax_percent=Decimal(20)),
        LineDraft(name="Hosting", quantity=Decimal(1), rate=Decimal(15)),
    ]
    for _ in range(count):
        invoice = await factory.invoice(world.ours.contact_a, lines=lines, status="PARTIALLY_PAID")
        await factory.payment(world.ours.contact_a, [(invoice, Decimal(10))])
        await factory.comment(invoice, person=world.ours.person_a, body="Thanks")
        await factory.comment(invoice, staff=world.ours.owner, visible=False, body="Hidden")


@pytest.fixture
async def normal(settings: Settings) -> AsyncIterator[tuple[GraphQLClient, Database]]:
    """An app of its own with the planned read path off: normal execution and its loaders."""
    application = create_app(settings.model_copy(update={"planned_reads": False}))
    async with application.router.lifespan_context(application):
        async with AsyncClient(transport=ASGITransport(app=application), base_url="http://portico.test") as client:
            yield GraphQLClient(client), application.state.runtime.db


@pytest.mark.parametrize("path", ["planned", "normal execution"])
async def test_invoice_list_statements_do_not_grow_with_the_number_of_invoices(
    gql: GraphQLClient, factory: Factory, world: World, db: Database, normal: Any, path: str
) -> None:
    client, engine_db = (gql, db) if path == "planned" else normal
    await client(INVOICE_LIST, as_=world.client)  # (the first request of a session also learns its kind)
    # given 5 invoices, each with lines, a payment applied and comments
    await _add_invoices(factory, world, 5)
    with statements(engine_db) as five:
        small = await client(INVOICE_LIST, as_=world.client)
    # when there are 50
    await _add_invoices(factory, world, 45)
    with statements(engine_db) as fifty:
        large = await client(INVOICE_LIST, as_=world.client)
    # then the same statements ran: one planned statement (session, rate limit and read); or the session lookup,
    # rate limit, page, count, and one batch per relation
    assert len(small["invoices"]["edges"]) == 5 and len(large["invoices"]["edges"]) == 50
    node = large["invoices"]["edges"][0]["node"]
    assert (node["commentCount"], len(node["lineItems"]), len(node["payments"])) == (1, 2, 1)
    assert len(fifty) == len(five), (five, fifty)
    assert len(five) == 1 if path == "planned" else len(five) <= 8, five
