"""Parallel payInvoices on one invoice against a real server process: exactly one payment, never below zero."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import func, select

from core.database import Database
from core.scope import T_ALLOCATION, T_PAYMENT
from core.settings import Settings
from tests.factories import Factory
from tests.live import running_server
from tests.pay.conftest import PAY, counts, invoice_row, token
from tests.stripe_fake import WEBHOOK_SECRET, FakeStripe

PARALLEL = 20


@pytest.mark.slow
async def test_twenty_parallel_payments_of_one_invoice_make_exactly_one(
    factory: Factory, db: Database, settings: Settings, stripe_fake: FakeStripe
) -> None:
    # given one invoice of 100.00, and 20 portal sessions of its contact (two people, ten tabs each)
    tenant = await factory.tenant()
    colleague = await factory.person(tenant.contact_a)
    invoice = await factory.invoice(tenant.contact_a)
    tokens = [
        await token(db, settings, organization_id=tenant.org.pk, person=tenant.person_a if n % 2 else colleague)
        for n in range(PARALLEL)
    ]
    env = {
        "STRIPE_SECRET_KEY": stripe_fake.secret_key,
        "STRIPE_API_BASE": stripe_fake.url,
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
    }
    with running_server(settings, **env) as base_url:
        async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:

            async def attempt(n: int) -> dict[str, object]:
                variables = {
                    "input": {
                        "invoiceIds": [invoice.gid],
                        "method": {"type": "CARD", "stripePaymentMethodId": stripe_fake.card()},
                        "idempotencyKey": str(uuid.uuid4()),
                    }
                }
                response = await client.post(
                    "/graphql",
                    json={"query": PAY, "variables": variables},
                    headers={"authorization": f"Bearer {tokens[n]}", "accept": "application/json"},
                )
                assert response.status_code == 200, response.text
                body = response.json()
                assert not body.get("errors"), body
                return body["data"]["payInvoices"]  # type: ignore[no-any-return]

            # when all 20 pay at once, each with its own idempotency key
            results = await asyncio.gather(*(attempt(n) for n in range(PARALLEL)))
    # then exactly one succeeded; the others were told the invoice is paid or being paid
    outcomes = Counter(str(result.get("status") or result.get("code")) for result in results)
    assert outcomes["SUCCEEDED"] == 1
    assert set(outcomes) <= {"SUCCEEDED", "ALREADY_PAID", "PAYMENT_IN_PROGRESS"}
    print(f"\n{PARALLEL} parallel payInvoices on one invoice: {dict(outcomes)}")
    # and one payment of 100.00, one PaymentIntent charged, the balance exactly zero
    row = await invoice_row(db, invoice)
    async with db.session() as session:
        allocated = await session.scalar(select(func.sum(T_ALLOCATION.c.amount)))
        payments = await session.scalar(select(func.count()).select_from(T_PAYMENT))
    assert (row.status, row.balance_due, row.amount_paid, allocated, payments) == (
        "PAID",
        Decimal(0),
        Decimal(100),
        Decimal(100),
        1,
    )
    charged = [intent for intent in stripe_fake.payment_intents.values() if intent["status"] == "succeeded"]
    assert len(charged) == 1 and charged[0]["amount"] == 10000
    # refused requests left no attempt behind
    assert (await counts(db))["attempts"] == 1
