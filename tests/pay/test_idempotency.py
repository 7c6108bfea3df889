"""The same idempotencyKey never charges twice: replays, reuse with other input, network failures and 5xx."""

from __future__ import annotations

import asyncio

from core.database import Database
from tests.client import GraphQLClient
from tests.factories import Factory
from tests.pay.conftest import Payers, counts, invoice_row, pay, pay_input
from tests.stripe_fake import FakeStripe


async def test_the_same_key_replays_the_same_attempt(
    pay_gql: GraphQLClient, payers: Payers, factory: Factory, stripe_fake: FakeStripe, db: Database
) -> None:
    # given a paid attempt
    invoice = await factory.invoice(payers.tenant.contact_a)
    variables = pay_input([invoice], card=stripe_fake.card(), key="replay-me")
    first = await pay(pay_gql, variables, payers.a)
    # when the client sends it five more times (ids in another order count as the same input)
    replays = [await pay(pay_gql, variables, payers.a) for _ in range(5)]
    # then each answer is the same attempt, and Stripe saw one PaymentIntent and one confirmation
    assert first["status"] == "SUCCEEDED"
    assert all(replay["payment"]["id"] == first["payment"]["id"] for replay in replays)
    assert len(stripe_fake.calls("POST", "/v1/payment_intents")) == 1
    assert len(stripe_fake.calls("POST", r"/v1/payment_intents/[^/]+/confirm")) == 1
    assert (await counts(db))["payments"] == 1 and (await counts(db))["attempts"] == 1


async def test_a_key_reused_for_different_input_is_refused(
    pay_gql: GraphQLClient, payers: Payers, factory: Factory, stripe_fake: FakeStripe, db: Database
) -> None:
    invoice = await factory.invoice(payers.tenant.contact_a)
    other = await factory.invoice(payers.tenant.contact_a)
    card = stripe_fake.card()
    await pay(pay_gql, pay_input([invoice], card=card, key="k", amount="10"), payers.a)
    before = await counts(db)
    reuses = [
        pay_input([invoice], card=card, key="k", amount="11"),
        pay_input([other], card=card, key="k"),
        pay_input([invoice], card=stripe_fake.card(), key="k", amount="10"),
        pay_input([invoice], card=card, key="k", amount="10", save=True),
    ]
    codes = [(await pay(pay_gql, variables, payers.a)).get("code") for variables in reuses]
    assert codes == ["IDEMPOTENCY_KEY_REUSED"] * 4
    assert await counts(db) == before
    # and keys are per user: contact B's user may use the same string for their own payment
    theirs = await factory.invoice(payers.tenant.contact_b)
    assert (await pay(pay_gql, pay_input([theirs], card=stripe_fake.card(), key="k"), payers.b))["status"] == (
        "SUCCEEDED"
    )


async def test_the_same_key_sent_concurrently_makes_one_payment(
    pay_gql: GraphQLClient, payers: Payers, factory: Factory, stripe_fake: FakeStripe, db: Database
) -> None:
    invoice = await factory.invoice(payers.tenant.contact_a)
    variables = pay_input([invoice], card=stripe_fake.card(), key="double-click")
    results = await asyncio.gather(*(pay(pay_gql, variables, payers.a) for _ in range(8)))
    outcomes = sorted(result.get("status") or result["code"] for result in results)
    # each answer is the attempt (or "in progress" while its twin holds it); one payment, one PaymentIntent
    assert set(outcomes) <= {"SUCCEEDED", "PAYMENT_IN_PROGRESS"} and "SUCCEEDED" in outcomes
    assert (await counts(db))["payments"] == 1
    assert len(stripe_fake.payment_intents) == 1
    assert (await pay(pay_gql, variables, payers.a))["status"] == "SUCCEEDED"


async def test_failures_at_stripe_are_resolved_by_retrying_with_the_same_key(
    pay_gql: GraphQLClient, payers: Payers, factory: Factory, stripe_fake: FakeStripe, db: Database
) -> None:
    # each case: a failure at one step; the client retries the same request until it gets an attempt
    cases = {
        "create: connection dropped before Stripe acted": (r"/v1/payment_intents", "drop_before"),
        "create: Stripe acted, the response was lost": (r"/v1/payment_intents", "drop_after"),
        "create: 500": (r"/v1/payment_intents", "500"),
        "confirm: connection dropped before Stripe acted": (r"/v1/payment_intents/[^/]+/confirm", "drop_before"),
        "confirm: charged, the response was lost": (r"/v1/payment_intents/[^/]+/confirm", "drop_after"),
        "confirm: 500": (r"/v1/payment_intents/[^/]+/confirm", "500"),
        "customer: charged nothing, response lost": (r"/v1/customers", "drop_after"),
    }
    report = {}
    for name, (path, kind) in cases.items():
        contact = await factory.contact(payers.tenant.org)
        person = await factory.person(contact)
        from tests.pay.conftest import token

        person_token = await token(db, factory.settings, organization_id=payers.tenant.org.pk, person=person)
        invoice = await factory.invoice(contact)
        variables = pay_input([invoice], card=stripe_fake.card(), key=f"retry-{kind}")
        intents_before = len(stripe_fake.payment_intents)
        stripe_fake.fail_next(path, kind)
        first = await pay(pay_gql, variables, person_token)
        second = await pay(pay_gql, variables, person_token)
        row = await invoice_row(db, invoice)
        charges = sum(
            1
            for intent in list(stripe_fake.payment_intents.values())[intents_before:]
            if intent["status"] == "succeeded"
        )
        report[name] = (first.get("code"), second.get("status"), row.status, charges)
    assert report == {name: ("GATEWAY_UNAVAILABLE", "SUCCEEDED", "PAID", 1) for name in cases}
    assert (await counts(db))["payments"] == len(cases)


async def test_an_attempt_left_without_an_answer_holds_the_invoice_only_for_a_while(
    pay_gql: GraphQLClient, payers: Payers, factory: Factory, stripe_fake: FakeStripe, db: Database
) -> None:
    from sqlalchemy import update

    from services.payments.attempts import IN_FLIGHT, T_ATTEMPT

    for failing_path in (r"/v1/payment_intents", r"/v1/payment_intents/[^/]+/confirm"):
        # given an attempt whose Stripe call failed and that the client never retried
        invoice = await factory.invoice(payers.tenant.contact_a)
        stripe_fake.fail_next(failing_path, "drop_before")
        lost = await pay(pay_gql, pay_input([invoice], card=stripe_fake.card()), payers.a)
        assert lost["code"] == "GATEWAY_UNAVAILABLE"
        # then another payment is refused while it may still be running
        fresh = await pay(pay_gql, pay_input([invoice], card=stripe_fake.card()), payers.a)
        assert fresh["code"] == "PAYMENT_IN_PROGRESS"
        # and once it is older than the in-flight limit, the next payment replaces it (its intent, if any, cancelled)
        async with db.transaction() as session:
            old = T_ATTEMPT.c.created_at - IN_FLIGHT * 2
            await session.execute(update(T_ATTEMPT).values(created_at=old, updated_at=old))
        result = await pay(pay_gql, pay_input([invoice], card=stripe_fake.card()), payers.a)
        assert result["status"] == "SUCCEEDED"
    assert [intent["status"] for intent in stripe_fake.payment_intents.values()] == [
        "succeeded",
        "canceled",
        "succeeded",
    ]
    assert (await counts(db))["payments"] == 2
