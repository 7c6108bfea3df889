"""Outcomes that arrive late: money that no longer fits an invoice stays on the payment, for staff to handle."""

from __future__ import annotations

from decimal import Decimal

from httpx import AsyncClient
from sqlalchemy import select

from core.database import Database
from core.scope import T_ALLOCATION, T_PAYMENT
from tests.client import GraphQLClient
from tests.factories import Factory
from tests.invoice.helpers import RECORD_PAYMENT, mutate
from tests.pay.conftest import Payers, history, invoice_row, pay, pay_input, post_event
from tests.stripe_fake import FakeStripe


async def test_a_debit_that_clears_after_the_invoice_was_paid_by_hand_stays_unapplied(
    pay_gql: GraphQLClient,
    pay_http: AsyncClient,
    payers: Payers,
    factory: Factory,
    stripe_fake: FakeStripe,
    db: Database,
) -> None:
    # given an ACH debit clearing on an invoice of 100.00
    invoice = await factory.invoice(payers.tenant.contact_a)
    pending = await pay(pay_gql, pay_input([invoice], bank=stripe_fake.bank_account()), payers.a)
    assert pending["status"] == "PROCESSING"
    intent_id = next(iter(stripe_fake.payment_intents))
    # and staff recording a check for the whole balance meanwhile
    check = {
        "contactId": payers.tenant.contact_a.gid,
        "amount": "100",
        "mode": "CHECK",
        "allocations": [{"invoiceId": invoice.gid, "amount": "100"}],
    }
    recorded = await mutate(pay_gql, RECORD_PAYMENT, {"input": check}, payers.staff)
    assert recorded["__typename"] == "Payment"
    # when the debit clears
    cleared = stripe_fake.event("payment_intent.succeeded", stripe_fake.settle(intent_id))
    assert (await post_event(pay_http, stripe_fake, cleared)).json()["outcome"] == "applied"
    # then the invoice is paid once, the online payment SUCCEEDED with nothing allocated and a note for staff
    row = await invoice_row(db, invoice)
    assert (row.status, row.balance_due, row.amount_paid) == ("PAID", Decimal(0), Decimal(100))
    async with db.session() as session:
        payments = {row.mode: row for row in await session.execute(select(T_PAYMENT))}
        allocated = (await session.scalars(select(T_ALLOCATION.c.payment_id))).all()
    ach = payments["ACH"]
    assert (sorted(payments), ach.status) == (["ACH", "CHECK"], "SUCCEEDED")
    assert ach.notes is not None and ach.notes.startswith("100.00 USD could not be applied")
    assert allocated == [payments["CHECK"].id]
    assert ("payment_unapplied", False) in await history(db, invoice)
