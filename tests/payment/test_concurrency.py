"""Concurrent payments never push a balance below zero and never deadlock."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from core.database import Database
from core.scope import T_ALLOCATION, T_INVOICE
from tests.client import GraphQLClient
from tests.factories import Factory
from tests.invoice.helpers import RECORD_PAYMENT, VOID_INVOICE, mutate, staff_session


def pay(contact_gid: str, *parts: tuple[str, str]) -> dict[str, Any]:
    amount = sum((Decimal(part) for _, part in parts), Decimal(0))
    return {
        "input": {
            "contactId": contact_gid,
            "amount": str(amount),
            "mode": "BANK_TRANSFER",
            "allocations": [{"invoiceId": invoice, "amount": part} for invoice, part in parts],
        }
    }


async def test_parallel_payments_stop_at_the_balance(gql: GraphQLClient, factory: Factory, db: Database) -> None:
    # given an invoice with 100.00 due
    staff = await staff_session(gql, factory)
    invoice = await factory.invoice(staff.tenant.contact_a)
    # when ten payments of 30.00 arrive at once
    results = await asyncio.gather(
        *(
            mutate(gql, RECORD_PAYMENT, pay(staff.tenant.contact_a.gid, (invoice.gid, "30")), staff.token)
            for _ in range(10)
        )
    )
    # then exactly three are recorded, the others are refused, and 10.00 is still due
    outcomes = sorted(result.get("code") or result["__typename"] for result in results)
    assert outcomes == ["EXCEEDS_BALANCE"] * 7 + ["Payment"] * 3
    async with db.session() as session:
        row = (await session.execute(select(T_INVOICE).where(T_INVOICE.c.id == invoice.pk))).one()
        allocated = await session.scalar(select(func.sum(T_ALLOCATION.c.amount)))
    assert (row.amount_paid, row.balance_due, row.status, allocated) == (
        Decimal(90),
        Decimal(10),
        "PARTIALLY_PAID",
        Decimal(90),
    )


async def test_payments_over_the_same_invoices_in_any_order_do_not_deadlock(
    gql: GraphQLClient, factory: Factory, db: Database
) -> None:
    # given two invoices of 100.00
    staff = await staff_session(gql, factory)
    first = await factory.invoice(staff.tenant.contact_a)
    second = await factory.invoice(staff.tenant.contact_a)
    # when ten payments allocate to both, half of them listing the invoices in the other order
    requests = [
        pay(staff.tenant.contact_a.gid, (first.gid, "10"), (second.gid, "10"))
        if n % 2
        else pay(staff.tenant.contact_a.gid, (second.gid, "10"), (first.gid, "10"))
        for n in range(10)
    ]
    results = await asyncio.gather(*(mutate(gql, RECORD_PAYMENT, variables, staff.token) for variables in requests))
    # then all are recorded and both invoices end up paid in full
    assert [result["__typename"] for result in results] == ["Payment"] * 10
    async with db.session() as session:
        rows = (
            await session.execute(select(T_INVOICE.c.status, T_INVOICE.c.balance_due).order_by(T_INVOICE.c.id))
        ).all()
    assert [tuple(row) for row in rows] == [("PAID", Decimal(0)), ("PAID", Decimal(0))]


async def test_a_payment_and_a_void_racing_on_one_invoice_never_both_win(
    gql: GraphQLClient, factory: Factory, db: Database
) -> None:
    # given a sent invoice
    staff = await staff_session(gql, factory)
    invoice = await factory.invoice(staff.tenant.contact_a)
    # when staff voids it while a payment for it is recorded
    paid, voided = await asyncio.gather(
        mutate(gql, RECORD_PAYMENT, pay(staff.tenant.contact_a.gid, (invoice.gid, "25")), staff.token),
        mutate(gql, VOID_INVOICE, {"id": invoice.gid}, staff.token),
    )
    # then exactly one of them happened
    async with db.session() as session:
        row = (await session.execute(select(T_INVOICE).where(T_INVOICE.c.id == invoice.pk))).one()
    if paid["__typename"] == "Payment":
        assert voided["code"] == "HAS_PAYMENTS"
        assert (row.status, row.balance_due) == ("PARTIALLY_PAID", Decimal(75))
    else:
        assert (paid["code"], voided["status"]) == ("INVALID_STATE", "VOID")
        assert (row.status, row.amount_paid) == ("VOID", Decimal(0))
