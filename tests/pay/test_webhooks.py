"""POST /webhooks/stripe: signatures checked before anything, each event applied once, in any order."""

from __future__ import annotations

import asyncio
import json
import random
import time
from decimal import Decimal
from typing import Any

from httpx import AsyncClient
from sqlalchemy import func, select

from core.database import Database
from core.scope import T_PAYMENT
from services.payments.webhooks import T_EVENT
from tests.client import GraphQLClient
from tests.factories import Factory, Row
from tests.pay.conftest import Payers, counts, history, invoice_row, pay, pay_input, post_event, published
from tests.stripe_fake import FakeStripe


async def _pending_ach(pay_gql: GraphQLClient, payers: Payers, factory: Factory, fake: FakeStripe) -> tuple[Row, str]:
    invoice = await factory.invoice(payers.tenant.contact_a)
    result = await pay(pay_gql, pay_input([invoice], bank=fake.bank_account()), payers.a)
    assert result["status"] == "PROCESSING"
    return invoice, next(iter(fake.payment_intents))


async def _events_recorded(db: Database) -> int:
    async with db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(T_EVENT)) or 0)


async def test_bad_signatures_get_400_and_record_nothing(
    pay_gql: GraphQLClient,
    pay_http: AsyncClient,
    payers: Payers,
    factory: Factory,
    stripe_fake: FakeStripe,
    db: Database,
) -> None:
    # given a pending ACH payment and the (genuine) event saying it cleared
    invoice, intent_id = await _pending_ach(pay_gql, payers, factory, stripe_fake)
    event = stripe_fake.event("payment_intent.succeeded", stripe_fake.settle(intent_id))
    before = await counts(db)
    # when it arrives with a wrong secret, a changed body, a stale or future timestamp, or no signature
    statuses = {
        "wrong secret": (await post_event(pay_http, stripe_fake, event, secret="whsec_wrong")).status_code,
        "tampered body": (await post_event(pay_http, stripe_fake, event, tamper=True)).status_code,
        "stale (301 s)": (await post_event(pay_http, stripe_fake, event, timestamp=int(time.time()) - 301)).status_code,
        "no signature": (
            await pay_http.post(
                "/webhooks/stripe", content=json.dumps(event), headers={"content-type": "application/json"}
            )
        ).status_code,
        "garbage header": (
            await pay_http.post("/webhooks/stripe", content=json.dumps(event), headers={"stripe-signature": "t=x,v1"})
        ).status_code,
        "not JSON": (
            await pay_http.post("/webhooks/stripe", content="{", headers={"stripe-signature": stripe_fake.sign("{")})
        ).status_code,
    }
    # then each is refused with 400 and nothing is recorded or changed
    assert statuses == dict.fromkeys(statuses, 400)
    assert await counts(db) == before and await _events_recorded(db) == 0
    assert (await invoice_row(db, invoice)).status == "SENT"
    # and the genuine delivery still works afterwards
    assert (await post_event(pay_http, stripe_fake, event)).json()["outcome"] == "applied"
    assert (await invoice_row(db, invoice)).status == "PAID"


async def test_webhooks_without_a_secret_are_unavailable(http: AsyncClient, stripe_fake: FakeStripe) -> None:
    # the session's default app has no STRIPE_WEBHOOK_SECRET
    event = stripe_fake.event("payment_intent.succeeded", {"id": "pi_x"})
    response = await post_event(http, stripe_fake, event)
    assert response.status_code == 503


async def test_each_event_applies_once_however_often_it_arrives(
    pay_gql: GraphQLClient,
    pay_http: AsyncClient,
    payers: Payers,
    factory: Factory,
    stripe_fake: FakeStripe,
    db: Database,
    pay_app: Any,
) -> None:
    # given a pending ACH payment and the event that clears it
    invoice, intent_id = await _pending_ach(pay_gql, payers, factory, stripe_fake)
    event = stripe_fake.event("payment_intent.succeeded", stripe_fake.settle(intent_id))
    # when Stripe delivers it 10 times at once and 5 more times later
    async with published(pay_app, payers.tenant.org.pk) as events:
        concurrent = await asyncio.gather(*(post_event(pay_http, stripe_fake, event) for _ in range(10)))
        later = [await post_event(pay_http, stripe_fake, event) for _ in range(5)]
    outcomes = sorted(response.json()["outcome"] for response in [*concurrent, *later])
    # then it was applied once: one allocation, the balance paid once, one "paid" entry, one set of events
    assert outcomes == ["applied"] + ["duplicate"] * 14
    print(f"\nwebhook duplication: 15 deliveries of one event -> {outcomes.count('applied')} applied")
    row = await invoice_row(db, invoice)
    assert (row.status, row.amount_paid, row.balance_due) == ("PAID", Decimal(100), Decimal(0))
    assert (await counts(db))["allocations"] == 1
    assert [kind for kind, _ in await history(db, invoice)].count("paid") == 1
    assert sorted(event["type"] for event in events) == ["DocumentStatusChanged", "PaymentReceived"]


async def test_events_in_any_order_end_in_the_same_state(
    pay_gql: GraphQLClient,
    pay_http: AsyncClient,
    payers: Payers,
    factory: Factory,
    stripe_fake: FakeStripe,
    db: Database,
) -> None:
    # for several shuffles of processing → succeeded → refunded (each event also delivered twice)
    finals = set()
    rng = random.Random(6)
    for round_ in range(6):
        invoice = await factory.invoice(payers.tenant.contact_a)
        # an attempt whose synchronous answer was lost after Stripe created the intent: only webhooks tell us
        stripe_fake.fail_next(r"/v1/payment_intents/[^/]+/confirm", "drop_after")
        result = await pay(pay_gql, pay_input([invoice], bank=stripe_fake.bank_account()), payers.a)
        assert result["code"] == "GATEWAY_UNAVAILABLE"
        intent_id = list(stripe_fake.payment_intents)[-1]
        processing = stripe_fake.event("payment_intent.processing", dict(stripe_fake.payment_intents[intent_id]))
        succeeded = stripe_fake.event("payment_intent.succeeded", stripe_fake.settle(intent_id))
        refunded = stripe_fake.event("charge.refunded", stripe_fake.refund(intent_id))
        deliveries = [processing, succeeded, refunded] * 2
        rng.shuffle(deliveries)
        for event in deliveries:
            assert (await post_event(pay_http, stripe_fake, event)).status_code == 200
        row = await invoice_row(db, invoice)
        async with db.session() as session:
            payment = (await session.execute(select(T_PAYMENT).order_by(T_PAYMENT.c.id.desc()).limit(1))).one()
        kinds = [kind for kind, _ in await history(db, invoice)]
        finals.add(
            (row.status, row.balance_due, row.amount_paid, payment.status, kinds.count("paid"), kinds.count("refunded"))
        )
        assert round_ >= 0
    # then every order ends the same way: paid once, refunded once, the invoice due again
    assert finals == {("SENT", Decimal(100), Decimal(0), "REFUNDED", 1, 1)}


async def test_a_refund_reverses_the_payment_and_a_partial_refund_is_left_to_staff(
    pay_gql: GraphQLClient,
    pay_http: AsyncClient,
    payers: Payers,
    factory: Factory,
    stripe_fake: FakeStripe,
    db: Database,
) -> None:
    # given two invoices paid together by card
    first = await factory.invoice(payers.tenant.contact_a)
    second = await factory.invoice(payers.tenant.contact_a)
    assert (await pay(pay_gql, pay_input([first, second], card=stripe_fake.card()), payers.a))["status"] == "SUCCEEDED"
    intent_id = next(iter(stripe_fake.payment_intents))
    # when 50.00 is refunded at Stripe, then the rest
    partial = stripe_fake.event("charge.refunded", stripe_fake.refund(intent_id, 5000))
    assert (await post_event(pay_http, stripe_fake, partial)).json()["outcome"] == "applied"
    # then the partial refund leaves the invoices paid, with a staff-only note
    assert (await invoice_row(db, first)).status == "PAID"
    assert ("refund_partial", False) in await history(db, first)
    full = stripe_fake.event("charge.refunded", stripe_fake.refund(intent_id))
    assert (await post_event(pay_http, stripe_fake, full)).json()["outcome"] == "applied"
    # and the full refund makes both invoices due again and the payment REFUNDED; the old partial event is moot
    assert (await post_event(pay_http, stripe_fake, {**partial, "id": "evt_partial_again"})).json()["outcome"] == (
        "unchanged"
    )
    for invoice in (first, second):
        row = await invoice_row(db, invoice)
        assert (row.status, row.balance_due, row.amount_paid) == ("SENT", Decimal(100), Decimal(0))
        assert ("refunded", True) in await history(db, invoice)
    async with db.session() as session:
        assert (await session.scalars(select(T_PAYMENT.c.status))).all() == ["REFUNDED"]


async def test_events_for_other_intents_are_acknowledged_and_ignored(
    pay_http: AsyncClient, stripe_fake: FakeStripe, db: Database, factory: Factory, payers: Payers
) -> None:
    cases = [
        stripe_fake.event("payment_intent.succeeded", {"id": "pi_not_ours", "amount": 100, "metadata": {}}),
        stripe_fake.event(
            "payment_intent.succeeded",
            {"id": "pi_forged", "amount": 100, "metadata": {"portico_attempt_id": "1", "portico_organization_id": "x"}},
        ),
        stripe_fake.event("customer.created", {"id": "cus_x"}),
        stripe_fake.event("charge.refunded", {"id": "ch_x", "payment_intent": None}),
    ]
    outcomes = [(await post_event(pay_http, stripe_fake, event)).json()["outcome"] for event in cases]
    assert outcomes == ["ignored"] * 4
    assert (await counts(db))["payments"] == 0
