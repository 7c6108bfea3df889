"""recordPayment: allocation over several invoices, balances and statuses, each error code, tenant isolation."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from core.database import Database
from core.scope import T_ACTIVITY, T_ALLOCATION, T_INVOICE, T_PAYMENT
from services.documents.lines import LineDraft, today
from tests.client import GraphQLClient
from tests.factories import Factory, Row
from tests.invoice.helpers import RECORD_PAYMENT, mutate, portal_token, snapshot, staff_session


def payment_input(contact: Row, amount: str, *allocations: tuple[Row, str], **extra: Any) -> dict[str, Any]:
    return {
        "input": {
            "contactId": contact.gid,
            "amount": amount,
            "mode": "CHECK",
            "allocations": [{"invoiceId": invoice.gid, "amount": part} for invoice, part in allocations],
            **extra,
        }
    }


async def money_tables(db: Database) -> tuple[list[dict[str, Any]], ...]:
    return (
        await snapshot(db, T_PAYMENT),
        await snapshot(db, T_ALLOCATION),
        await snapshot(db, T_INVOICE),
        await snapshot(db, T_ACTIVITY),
    )


async def test_one_payment_is_allocated_over_several_invoices(
    gql: GraphQLClient, factory: Factory, db: Database
) -> None:
    # given a contact with two sent invoices of 100.00, one of them overdue
    staff = await staff_session(gql, factory)
    contact = staff.tenant.contact_a
    overdue = await factory.invoice(contact, due_date=today() - dt.timedelta(days=3))
    current = await factory.invoice(contact)
    # when staff records a check of 150.00: 100.00 for the first, 50.00 for the second
    result = await mutate(
        gql,
        RECORD_PAYMENT,
        payment_input(
            contact,
            "150",
            (overdue, "100.00"),
            (current, "50"),
            paymentDate="2026-11-20",
            reference="CHK 1001",
            notes="Thanks",
        ),
        staff.token,
    )
    # then the payment is recorded in the contact's currency and each invoice's balance and status follow
    assert result["__typename"] == "Payment"
    assert (result["amount"], result["currency"], result["mode"], result["status"]) == (
        "150.00",
        "USD",
        "CHECK",
        "SUCCEEDED",
    )
    assert (result["paymentDate"], result["reference"], result["notes"]) == ("2026-11-20", "CHK 1001", "Thanks")
    assert [
        (
            a["amount"],
            a["invoice"]["id"],
            a["invoice"]["status"],
            a["invoice"]["amountPaid"],
            a["invoice"]["balanceDue"],
        )
        for a in result["allocations"]
    ] == [
        ("100.00", overdue.gid, "PAID", "100.00", "0.00"),
        ("50.00", current.gid, "PARTIALLY_PAID", "50.00", "50.00"),
    ]
    # and each invoice's history tells the client
    async with db.session() as session:
        entries = (
            await session.execute(
                select(T_ACTIVITY.c.invoice_id, T_ACTIVITY.c.kind, T_ACTIVITY.c.client_visible).order_by(
                    T_ACTIVITY.c.invoice_id
                )
            )
        ).all()
        recorded_by = await session.scalar(select(T_PAYMENT.c.recorded_by_id))
    assert [tuple(entry) for entry in entries] == [(overdue.pk, "paid", True), (current.pk, "paid", True)]
    assert recorded_by == staff.tenant.owner.pk
    # and the client sees the payment and the remaining balance in the portal
    client = await portal_token(gql, staff.tenant)
    seen = await gql(
        "query($id: ID!) { invoice(id: $id) { status balanceDue } payments { totalCount } }",
        {"id": current.gid},
        as_=client,
    )
    assert seen == {"invoice": {"status": "PARTIALLY_PAID", "balanceDue": "50.00"}, "payments": {"totalCount": 1}}


async def test_paying_the_rest_marks_the_invoice_paid(gql: GraphQLClient, factory: Factory) -> None:
    staff = await staff_session(gql, factory)
    invoice = await factory.invoice(staff.tenant.contact_a)
    await mutate(gql, RECORD_PAYMENT, payment_input(staff.tenant.contact_a, "60", (invoice, "60")), staff.token)
    result = await mutate(
        gql, RECORD_PAYMENT, payment_input(staff.tenant.contact_a, "40", (invoice, "40"), mode="CASH"), staff.token
    )
    assert result["mode"] == "CASH"
    assert result["paymentDate"] == today().isoformat()
    assert result["allocations"][0]["invoice"] == {
        "id": invoice.gid,
        "status": "PAID",
        "amountPaid": "100.00",
        "balanceDue": "0.00",
    }


async def test_more_than_the_balance_is_refused(gql: GraphQLClient, factory: Factory, db: Database) -> None:
    # given two invoices, one with 100.00 due and one with 60.00 due after a partial payment
    staff = await staff_session(gql, factory)
    contact = staff.tenant.contact_a
    full = await factory.invoice(contact)
    partly = await factory.invoice(contact, status="PARTIALLY_PAID", amount_paid=Decimal(40))
    before = await money_tables(db)
    # when a payment would allocate one cent more than the second invoice's balance
    result = await mutate(
        gql, RECORD_PAYMENT, payment_input(contact, "160.01", (full, "100"), (partly, "60.01")), staff.token
    )
    # then nothing at all is recorded
    assert (result["__typename"], result["code"], result["field"]) == (
        "RecordPaymentError",
        "EXCEEDS_BALANCE",
        "allocations[1].amount",
    )
    assert await money_tables(db) == before


@pytest.mark.parametrize(("status", "paid"), [("DRAFT", "0"), ("PAID", "100"), ("VOID", "0")])
async def test_only_sent_or_partly_paid_invoices_take_payments(
    gql: GraphQLClient, factory: Factory, db: Database, status: str, paid: str
) -> None:
    staff = await staff_session(gql, factory)
    invoice = await factory.invoice(staff.tenant.contact_a, status=status, amount_paid=Decimal(paid))
    before = await money_tables(db)
    result = await mutate(gql, RECORD_PAYMENT, payment_input(staff.tenant.contact_a, "1", (invoice, "1")), staff.token)
    assert (result["code"], result["field"]) == ("INVALID_STATE", "allocations[0].invoiceId")
    assert await money_tables(db) == before


@pytest.mark.parametrize(
    ("amount", "parts", "field"),
    [
        ("50", ["30", "30"], "allocations"),  # allocations add up to more than the amount
        ("50", ["30", "10"], "allocations"),  # or to less
        ("10.001", ["10.001"], "amount"),  # more decimals than USD has
        ("10", ["10.001", "-0.001"], "allocations[0].amount"),
        ("0", ["0"], "amount"),
        ("-5", ["-5"], "amount"),
        ("10", ["10", "0"], "allocations[1].amount"),
        ("10", [], "allocations"),
    ],
)
async def test_invalid_amounts_are_refused(
    gql: GraphQLClient, factory: Factory, db: Database, amount: str, parts: list[str], field: str
) -> None:
    staff = await staff_session(gql, factory)
    invoices = [await factory.invoice(staff.tenant.contact_a) for _ in parts]
    before = await money_tables(db)
    result = await mutate(
        gql,
        RECORD_PAYMENT,
        payment_input(staff.tenant.contact_a, amount, *zip(invoices, parts, strict=True)),
        staff.token,
    )
    assert (result["code"], result["field"]) == ("INVALID_INPUT", field)
    assert await money_tables(db) == before


async def test_amounts_follow_the_contacts_currency(gql: GraphQLClient, factory: Factory) -> None:
    # given a yen invoice of 1000
    staff = await staff_session(gql, factory)
    contact = await factory.contact(staff.tenant.org, currency="JPY")
    invoice = await factory.invoice(contact, lines=[LineDraft(name="Work", quantity=Decimal(1), rate=Decimal(1000))])
    # then a fraction of a yen is refused and whole yen are accepted
    refused = await mutate(gql, RECORD_PAYMENT, payment_input(contact, "100.5", (invoice, "100.5")), staff.token)
    accepted = await mutate(gql, RECORD_PAYMENT, payment_input(contact, "400", (invoice, "400")), staff.token)
    assert (refused["code"], refused["field"]) == ("INVALID_INPUT", "amount")
    assert (accepted["amount"], accepted["currency"], accepted["allocations"][0]["invoice"]["balanceDue"]) == (
        "400",
        "JPY",
        "600",
    )


async def test_invoices_of_another_contact_or_twice_the_same_are_refused(
    gql: GraphQLClient, factory: Factory, db: Database
) -> None:
    staff = await staff_session(gql, factory)
    mine = await factory.invoice(staff.tenant.contact_a)
    theirs = await factory.invoice(staff.tenant.contact_b)
    before = await money_tables(db)
    other = await mutate(
        gql, RECORD_PAYMENT, payment_input(staff.tenant.contact_a, "20", (mine, "10"), (theirs, "10")), staff.token
    )
    twice = await mutate(
        gql, RECORD_PAYMENT, payment_input(staff.tenant.contact_a, "20", (mine, "10"), (mine, "10")), staff.token
    )
    assert (other["code"], other["field"]) == ("INVALID_INPUT", "allocations[1].invoiceId")
    assert (twice["code"], twice["field"]) == ("INVALID_INPUT", "allocations")
    assert await money_tables(db) == before


async def test_unknown_contact_or_invoice_is_not_found(gql: GraphQLClient, factory: Factory, db: Database) -> None:
    staff = await staff_session(gql, factory)
    invoice = await factory.invoice(staff.tenant.contact_a)
    estimate = await factory.estimate(staff.tenant.contact_a)
    before = await money_tables(db)
    no_contact = await mutate(
        gql, RECORD_PAYMENT, payment_input(staff.tenant.person_a, "10", (invoice, "10")), staff.token
    )
    no_invoice = await mutate(
        gql, RECORD_PAYMENT, payment_input(staff.tenant.contact_a, "10", (estimate, "10")), staff.token
    )
    assert (no_contact["code"], no_contact["field"]) == ("NOT_FOUND", "contactId")
    assert (no_invoice["code"], no_invoice["field"]) == ("NOT_FOUND", "allocations[0].invoiceId")
    assert await money_tables(db) == before


async def test_staff_of_another_organization_gets_not_found(gql: GraphQLClient, factory: Factory, db: Database) -> None:
    # given an invoice of one organization
    victim = await staff_session(gql, factory)
    invoice = await factory.invoice(victim.tenant.contact_a)
    intruder = await staff_session(gql, factory)
    decoy = await factory.invoice(intruder.tenant.contact_a)
    before = await money_tables(db)
    # when staff of another organization records a payment for its contact, or for its invoice from their contact
    for_contact = await mutate(
        gql, RECORD_PAYMENT, payment_input(victim.tenant.contact_a, "10", (invoice, "10")), intruder.token
    )
    for_invoice = await mutate(
        gql,
        RECORD_PAYMENT,
        payment_input(intruder.tenant.contact_a, "20", (decoy, "10"), (invoice, "10")),
        intruder.token,
    )
    # then neither exists for them and nothing changed
    assert (for_contact["code"], for_contact["field"]) == ("NOT_FOUND", "contactId")
    assert (for_invoice["code"], for_invoice["field"]) == ("NOT_FOUND", "allocations[1].invoiceId")
    assert await money_tables(db) == before
