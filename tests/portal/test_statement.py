"""statement(from, to): opening balance, invoices and payments with a running balance, closing balance.

Hand-computed figures (contact A, USD), period 2026-03-01 .. 2026-03-31:

  before the period  INV A 2026-02-10  1,000.00   INV B 2026-02-20  500.00
                     payment P1 2026-02-25  600.00 → A (partial)
                     left out: a VOID invoice (300.00), a DRAFT (50.00), a FAILED payment (100.00)
  opening balance    1,000.00 + 500.00 − 600.00 = 900.00
  2026-03-05  INV C          debit  250.00   balance 1,150.00
  2026-03-10  INV D          debit   80.25   balance 1,230.25   (invoices before payments on one day)
  2026-03-10  payment P2     credit 700.00   balance   530.25   (400.00 → A, completing it; 300.00 → B)
  2026-03-20  payment P3     credit 200.00   balance   330.25   (→ B, completing it)
              left out: a PENDING ACH payment (03-25), a VOID invoice (03-15), a DRAFT (03-18),
              another contact's invoice, and everything after 03-31
  closing balance    900.00 + 330.25 − 900.00 = 330.25  (= C 250.00 + D 80.25 still open)
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from services.documents.lines import LineDraft
from tests.client import GraphQLClient
from tests.factories import Factory, Row
from tests.portal.conftest import World

STATEMENT = """query($from: Date!, $to: Date!, $contactId: ID) {
  statement(from: $from, to: $to, contactId: $contactId) {
  from to currency openingBalance invoicedAmount amountReceived closingBalance contact { id }
  entries { date kind number description debit credit balance documentId
            invoice { number } payment { amount } } } }"""

MARCH = {"from": "2026-03-01", "to": "2026-03-31"}


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def amount(value: str) -> list[LineDraft]:
    return [LineDraft(name="Work", quantity=Decimal(1), rate=Decimal(value))]


async def _history(factory: Factory, contact: Row) -> dict[str, Row]:
    async def invoice(issued: str, total: str, **values: Any) -> Row:
        return await factory.invoice(contact, lines=amount(total), issue_date=day(issued), due_date=None, **values)

    docs = {
        "A": await invoice("2026-02-10", "1000"),
        "B": await invoice("2026-02-20", "500"),
        "C": await invoice("2026-03-05", "250"),
        "D": await invoice("2026-03-10", "80.25"),
        "F": await invoice("2026-04-02", "60"),
    }
    await invoice("2026-02-15", "300", status="VOID")
    await invoice("2026-02-01", "50", status="DRAFT")
    await invoice("2026-03-15", "999", status="VOID")
    await invoice("2026-03-18", "75", status="DRAFT")
    docs["P1"] = await factory.payment(contact, [(docs["A"], Decimal(600))], payment_date=day("2026-02-25"))
    await factory.payment(
        contact, [], amount=Decimal(100), status="FAILED", mode="CARD", payment_date=day("2026-02-26")
    )
    docs["P2"] = await factory.payment(
        contact, [(docs["A"], Decimal(400)), (docs["B"], Decimal(300))], payment_date=day("2026-03-10"), reference="W-2"
    )
    docs["P3"] = await factory.payment(contact, [(docs["B"], Decimal(200))], payment_date=day("2026-03-20"))
    await factory.payment(
        contact, [(docs["C"], Decimal(100))], status="PENDING", mode="ACH", payment_date=day("2026-03-25")
    )
    await factory.payment(contact, [(docs["C"], Decimal(50))], payment_date=day("2026-04-03"))
    return docs


async def test_statement_of_march_with_partial_and_spanning_payments(
    gql: GraphQLClient, factory: Factory, world: World
) -> None:
    # given the history above for the client's contact, and an invoice of another contact in March
    docs = await _history(factory, world.ours.contact_a)
    await factory.invoice(world.ours.contact_b, lines=amount("12345"), issue_date=day("2026-03-12"))
    # when the client asks for March
    statement = (await gql(STATEMENT, MARCH, as_=world.client))["statement"]
    # then the figures are the hand-computed ones
    assert (statement["from"], statement["to"], statement["currency"]) == ("2026-03-01", "2026-03-31", "USD")
    assert statement["contact"]["id"] == world.ours.contact_a.gid
    assert statement["openingBalance"] == "900.00"
    assert [(e["date"], e["kind"], e["debit"], e["credit"], e["balance"]) for e in statement["entries"]] == [
        ("2026-03-05", "INVOICE", "250.00", "0.00", "1150.00"),
        ("2026-03-10", "INVOICE", "80.25", "0.00", "1230.25"),
        ("2026-03-10", "PAYMENT", "0.00", "700.00", "530.25"),
        ("2026-03-20", "PAYMENT", "0.00", "200.00", "330.25"),
    ]
    assert (statement["invoicedAmount"], statement["amountReceived"]) == ("330.25", "900.00")
    assert statement["closingBalance"] == "330.25"
    # and each line names its document
    first, _, spanning, _ = statement["entries"]
    assert (first["number"], first["invoice"]["number"], first["documentId"]) == (
        docs["C"].number,
        docs["C"].number,
        docs["C"].gid,
    )
    assert (spanning["number"], spanning["payment"]["amount"], spanning["documentId"]) == (
        "W-2",
        "700.00",
        docs["P2"].gid,
    )
    assert docs["A"].number in spanning["description"] and docs["B"].number in spanning["description"]


async def test_a_later_start_moves_earlier_lines_into_the_opening_balance(
    gql: GraphQLClient, factory: Factory, world: World
) -> None:
    await _history(factory, world.ours.contact_a)
    statement = (await gql(STATEMENT, {"from": "2026-03-11", "to": "2026-03-31"}, as_=world.client))["statement"]
    # 900.00 + 250.00 + 80.25 − 700.00 = 530.25, then P3
    assert statement["openingBalance"] == "530.25"
    assert [(e["kind"], e["balance"]) for e in statement["entries"]] == [("PAYMENT", "330.25")]
    assert statement["closingBalance"] == "330.25"


async def test_staff_ask_for_a_contact_by_id(gql: GraphQLClient, factory: Factory, world: World) -> None:
    await _history(factory, world.ours.contact_a)
    await factory.invoice(world.ours.contact_b, lines=amount("12.34"), issue_date=day("2026-03-12"))
    mine = (await gql(STATEMENT, {**MARCH, "contactId": world.ours.contact_a.gid}, as_=world.staff))["statement"]
    theirs = (await gql(STATEMENT, {**MARCH, "contactId": world.ours.contact_b.gid}, as_=world.staff))["statement"]
    assert (mine["openingBalance"], mine["closingBalance"]) == ("900.00", "330.25")
    assert (theirs["openingBalance"], theirs["closingBalance"], len(theirs["entries"])) == ("0.00", "12.34", 1)
    # a portal user may name their own contact, which changes nothing
    own = (await gql(STATEMENT, {**MARCH, "contactId": world.ours.contact_a.gid}, as_=world.client))["statement"]
    assert own == (await gql(STATEMENT, MARCH, as_=world.client))["statement"]


async def test_an_empty_period(gql: GraphQLClient, world: World) -> None:
    statement = (await gql(STATEMENT, MARCH, as_=world.client))["statement"]
    assert (statement["openingBalance"], statement["closingBalance"], statement["entries"]) == ("0.00", "0.00", [])


@pytest.mark.parametrize(
    ("who", "variables", "code"),
    [
        ("staff", MARCH, "BAD_USER_INPUT"),  # staff must name the contact
        ("staff", {"from": "2026-03-31", "to": "2026-03-01", "contactId": "CONTACT_A"}, "BAD_USER_INPUT"),
        ("client", {"from": "2026-03-31", "to": "2026-03-01"}, "BAD_USER_INPUT"),
        ("client", {**MARCH, "contactId": "CONTACT_B"}, "NOT_FOUND"),  # another contact of the organization
        ("client", {**MARCH, "contactId": "RIVAL_CONTACT"}, "NOT_FOUND"),
        ("rival_staff", {**MARCH, "contactId": "CONTACT_A"}, "NOT_FOUND"),  # another organization's staff
        ("staff", {**MARCH, "contactId": "garbage"}, "NOT_FOUND"),
        ("anonymous", MARCH, "UNAUTHENTICATED"),
    ],
)
async def test_errors(
    gql: GraphQLClient, factory: Factory, world: World, who: str, variables: dict[str, str], code: str
) -> None:
    await _history(factory, world.ours.contact_a)
    ids = {
        "CONTACT_A": world.ours.contact_a.gid,
        "CONTACT_B": world.ours.contact_b.gid,
        "RIVAL_CONTACT": world.theirs.contact_a.gid,
    }
    resolved = {key: ids.get(value, value) for key, value in variables.items()}
    token = None if who == "anonymous" else getattr(world, who)
    result = await gql.raw(STATEMENT, resolved, as_=token)
    assert result.error_codes == [code]
    assert result.data is None
