"""The portal's reads: invoices with taxes, payments applied and comment counts; estimate and invoice filters;
payments made; the history's client-safe subset."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from services.documents.lines import LineDraft
from tests.client import GraphQLClient
from tests.factories import Factory
from tests.portal.conftest import World

TODAY = dt.date.today()
INVOICE = """query($id: ID!) { invoice(id: $id) {
  number status kind total subtotal taxTotal amountPaid balanceDue paymentGateways commentCount
  lineItems { name amount taxName taxPercent taxAmount }
  taxes { name percent amount }
  payments { amount paymentDate mode status reference payment { id amount allocations { amount invoice { number } } } }
  activity { kind } } }"""
INVOICE_NUMBERS = """query($filter: InvoiceFilter) { invoices(filter: $filter) { edges { node { number status } } } }"""
ESTIMATE_NUMBERS = (
    """query($filter: EstimateFilter) { estimates(filter: $filter) { edges { node { number status } } } }"""
)
PAYMENTS = """{ payments { edges { node { id amount paymentDate mode status reference
  allocations { amount invoice { number } } } } } }"""


def taxed_lines() -> list[LineDraft]:
    return [
        LineDraft(name="Design", quantity=Decimal(2), rate=Decimal(100), tax_name="VAT", tax_percent=Decimal(20)),
        LineDraft(name="Hosting", quantity=Decimal(1), rate=Decimal("10.05"), tax_name="VAT", tax_percent=Decimal(20)),
        LineDraft(name="Books", quantity=Decimal(1), rate=Decimal(50), tax_name="Reduced", tax_percent=Decimal(5)),
        LineDraft(name="Advice", quantity=Decimal(1), rate=Decimal(30)),
    ]


async def test_invoice_detail_for_the_client(gql: GraphQLClient, factory: Factory, world: World) -> None:
    # given an invoice with taxes at two rates, paid in part by a payment that also paid another invoice
    invoice = await factory.invoice(world.ours.contact_a, lines=taxed_lines(), status="PARTIALLY_PAID")
    other = await factory.invoice(world.ours.contact_a, status="PAID")  # the payment below pays its 100.00
    wire = await factory.payment(
        world.ours.contact_a,
        [(invoice, Decimal("150.00")), (other, Decimal(100))],
        reference="WIRE-1",
        payment_date=TODAY - dt.timedelta(days=3),
    )
    await factory.payment(world.ours.contact_a, [(invoice, Decimal(40))], mode="ACH", status="PENDING")
    await factory.comment(invoice, person=world.ours.person_a, body="When is it due?")
    await factory.comment(invoice, staff=world.ours.owner, visible=True, body="Next Friday")
    await factory.comment(invoice, staff=world.ours.owner, visible=False, body="Internal note")
    # when the client opens it
    data = (await gql(INVOICE, {"id": invoice.gid}, as_=world.client))["invoice"]
    # then totals: lines 200 + 10.05 + 50 + 30 = 290.05; VAT 20% of 200 (40.00) + of 10.05 (2.01); 5% of 50 (2.50)
    assert (data["subtotal"], data["taxTotal"], data["total"]) == ("290.05", "44.51", "334.56")
    assert data["taxes"] == [
        {"name": "VAT", "percent": "20", "amount": "42.01"},
        {"name": "Reduced", "percent": "5", "amount": "2.50"},
    ]
    # and the payments applied, oldest first, each with the part it paid of this invoice
    assert [(p["amount"], p["mode"], p["status"], p["reference"]) for p in data["payments"]] == [
        ("150.00", "BANK_TRANSFER", "SUCCEEDED", "WIRE-1"),
        ("40.00", "ACH", "PENDING", None),
    ]
    whole = data["payments"][0]["payment"]
    assert (whole["id"], whole["amount"]) == (wire.gid, "250.00")
    assert sorted(a["invoice"]["number"] for a in whole["allocations"]) == sorted([invoice.number, other.number])
    assert (data["amountPaid"], data["balanceDue"]) == ("190.00", "144.56")
    assert data["paymentGateways"] == ["CARD", "ACH"]
    # and the comment count is what the client may see (not the staff-only note); staff see all three
    assert data["commentCount"] == 2
    staff = (await gql(INVOICE, {"id": invoice.gid}, as_=world.staff))["invoice"]
    assert staff["commentCount"] == 3


async def test_invoice_filters(gql: GraphQLClient, factory: Factory, world: World) -> None:
    contact = world.ours.contact_a
    sent = await factory.invoice(contact, issue_date=TODAY - dt.timedelta(days=5))
    overdue = await factory.invoice(
        contact, issue_date=TODAY - dt.timedelta(days=40), due_date=TODAY - dt.timedelta(days=10)
    )
    partial_overdue = await factory.invoice(
        contact, status="PARTIALLY_PAID", issue_date=TODAY - dt.timedelta(days=60), due_date=TODAY - dt.timedelta(1)
    )
    paid = await factory.invoice(contact, status="PAID", issue_date=TODAY - dt.timedelta(days=20))
    retainer = await factory.invoice(contact, kind="RETAINER", issue_date=TODAY - dt.timedelta(days=2))
    await factory.invoice(contact, status="DRAFT")
    await factory.invoice(world.ours.contact_b)

    async def numbers(filter: dict[str, object]) -> list[tuple[str, str]]:
        data = await gql(INVOICE_NUMBERS, {"filter": filter}, as_=world.client)
        return [(e["node"]["number"], e["node"]["status"]) for e in data["invoices"]["edges"]]

    assert await numbers({}) == [
        (retainer.number, "SENT"),
        (sent.number, "SENT"),
        (paid.number, "PAID"),
        (overdue.number, "OVERDUE"),
        (partial_overdue.number, "OVERDUE"),
    ]
    assert await numbers({"status": ["OVERDUE"]}) == [(overdue.number, "OVERDUE"), (partial_overdue.number, "OVERDUE")]
    assert await numbers({"status": ["SENT"]}) == [(retainer.number, "SENT"), (sent.number, "SENT")]
    assert await numbers({"kind": "RETAINER"}) == [(retainer.number, "SENT")]
    assert await numbers({"kind": "REGULAR", "status": ["SENT", "PAID"]}) == [
        (sent.number, "SENT"),
        (paid.number, "PAID"),
    ]
    window = {"from": (TODAY - dt.timedelta(days=45)).isoformat(), "to": (TODAY - dt.timedelta(days=5)).isoformat()}
    assert await numbers({"dateRange": window}) == [
        (sent.number, "SENT"),
        (paid.number, "PAID"),
        (overdue.number, "OVERDUE"),
    ]
    assert await numbers({"search": overdue.number[-2:]}) == [(overdue.number, "OVERDUE")]


async def test_estimate_filters(gql: GraphQLClient, factory: Factory, world: World) -> None:
    contact = world.ours.contact_a
    sent = await factory.estimate(contact, issue_date=TODAY - dt.timedelta(days=3))
    expired = await factory.estimate(
        contact, issue_date=TODAY - dt.timedelta(days=50), expiry_date=TODAY - dt.timedelta(days=20)
    )
    accepted = await factory.estimate(contact, status="ACCEPTED", issue_date=TODAY - dt.timedelta(days=30))
    declined = await factory.estimate(contact, status="DECLINED", issue_date=TODAY - dt.timedelta(days=10))
    await factory.estimate(contact, status="DRAFT")
    await factory.estimate(world.ours.contact_b)

    async def numbers(filter: dict[str, object]) -> list[tuple[str, str]]:
        data = await gql(ESTIMATE_NUMBERS, {"filter": filter}, as_=world.client)
        return [(e["node"]["number"], e["node"]["status"]) for e in data["estimates"]["edges"]]

    assert await numbers({}) == [
        (sent.number, "SENT"),
        (declined.number, "DECLINED"),
        (accepted.number, "ACCEPTED"),
        (expired.number, "EXPIRED"),
    ]
    assert await numbers({"status": ["SENT"]}) == [(sent.number, "SENT")]
    assert await numbers({"status": ["EXPIRED", "ACCEPTED"]}) == [
        (accepted.number, "ACCEPTED"),
        (expired.number, "EXPIRED"),
    ]
    window = {"from": (TODAY - dt.timedelta(days=30)).isoformat(), "to": (TODAY - dt.timedelta(days=10)).isoformat()}
    assert await numbers({"dateRange": window}) == [(declined.number, "DECLINED"), (accepted.number, "ACCEPTED")]
    assert await numbers({"search": sent.number}) == [(sent.number, "SENT")]


async def test_payments_made(gql: GraphQLClient, factory: Factory, world: World) -> None:
    # given a transfer spanning two invoices and a pending ACH payment, and another contact's payment
    first = await factory.invoice(world.ours.contact_a)
    second = await factory.invoice(world.ours.contact_a)
    transfer = await factory.payment(
        world.ours.contact_a,
        [(first, Decimal(100)), (second, Decimal("30.50"))],
        reference="TR-9",
        payment_date=TODAY - dt.timedelta(days=2),
    )
    ach = await factory.payment(world.ours.contact_a, [(second, Decimal("69.50"))], mode="ACH", status="PENDING")
    await factory.payment(world.ours.contact_b, [(await factory.invoice(world.ours.contact_b), Decimal(1))])
    # when the client lists their payments
    edges = (await gql(PAYMENTS, as_=world.client))["payments"]["edges"]
    # then newest first, the pending ACH payment shows as PENDING, and each lists the invoices it paid
    assert [e["node"]["id"] for e in edges] == [ach.gid, transfer.gid]
    pending, wire = edges[0]["node"], edges[1]["node"]
    assert (pending["status"], pending["mode"], pending["amount"]) == ("PENDING", "ACH", "69.50")
    assert (wire["status"], wire["reference"], wire["paymentDate"]) == (
        "SUCCEEDED",
        "TR-9",
        (TODAY - dt.timedelta(days=2)).isoformat(),
    )
    assert [(a["amount"], a["invoice"]["number"]) for a in wire["allocations"]] == [
        ("100.00", first.number),
        ("30.50", second.number),
    ]


async def test_other_contacts_and_organizations_documents_are_invisible(
    gql: GraphQLClient, factory: Factory, world: World
) -> None:
    theirs = await factory.invoice(world.ours.contact_b)
    rival = await factory.invoice(world.theirs.contact_a)
    for gid, token in ((theirs.gid, world.client), (rival.gid, world.client), (rival.gid, world.staff)):
        assert (await gql(INVOICE, {"id": gid}, as_=token))["invoice"] is None


async def test_history_is_complete_for_staff_and_client_safe_in_the_portal(
    gql: GraphQLClient, factory: Factory, world: World
) -> None:
    # given an invoice sent, viewed, commented on by staff (hidden) and by the client, via the API
    create = """mutation($input: CreateInvoiceInput!) { createInvoice(input: $input) { ... on Invoice { id } } }"""
    created = await gql(
        create,
        {"input": {"contactId": world.ours.contact_a.gid, "lineItems": [{"name": "A", "quantity": "1", "rate": "5"}]}},
        as_=world.staff,
    )
    gid = created["createInvoice"]["id"]
    await gql("mutation($id: ID!) { sendInvoice(id: $id) { __typename } }", {"id": gid}, as_=world.staff)
    await gql("mutation($id: ID!) { recordView(id: $id) { __typename } }", {"id": gid}, as_=world.client)
    await gql("mutation($id: ID!) { recordView(id: $id) { __typename } }", {"id": gid}, as_=world.client)
    comment = "mutation($input: AddCommentInput!) { addComment(input: $input) { __typename } }"
    await gql(comment, {"input": {"targetId": gid, "body": "internal"}}, as_=world.staff)
    await gql(comment, {"input": {"targetId": gid, "body": "question"}}, as_=world.client)
    query = "query($id: ID!) { invoice(id: $id) { activity { kind actorName } } }"
    staff = [entry["kind"] for entry in (await gql(query, {"id": gid}, as_=world.staff))["invoice"]["activity"]]
    portal = (await gql(query, {"id": gid}, as_=world.client))["invoice"]["activity"]
    assert staff == ["created", "sent", "viewed", "viewed_again", "commented", "commented"]
    assert [entry["kind"] for entry in portal] == ["sent", "viewed", "commented"]
    assert portal[1]["actorName"] == f"{world.ours.person_a.first_name} Tester"


async def test_line_items_keep_their_own_currency_in_a_mixed_list(
    gql: GraphQLClient, factory: Factory, world: World
) -> None:
    # given a yen invoice and a dollar invoice listed together
    yen = await factory.contact(world.ours.org, currency="JPY")
    await factory.invoice(yen, lines=[LineDraft(name="A", quantity=Decimal(1), rate=Decimal(1500))])
    await factory.invoice(world.ours.contact_a, lines=[LineDraft(name="B", quantity=Decimal(1), rate=Decimal("10.50"))])
    query = "{ invoices { edges { node { currency lineItems { rate amount } taxes { amount } } } } }"
    edges = (await gql(query, as_=world.staff))["invoices"]["edges"]
    # then each line is rounded in its own document's currency
    amounts = sorted((e["node"]["currency"], e["node"]["lineItems"][0]["amount"]) for e in edges)
    assert amounts == [("JPY", "1500"), ("USD", "10.50")]
