"""ACH stays PROCESSING (and holds the invoice) until Stripe settles it; 3-D Secure returns the client secret."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from core.database import Database
from core.scope import T_PAYMENT
from tests.client import GraphQLClient
from tests.factories import Factory
from tests.pay.conftest import PAY, Payers, counts, history, invoice_row, pay, pay_input, post_event
from tests.stripe_fake import FakeStripe

INVOICE = "query($id: ID!) { invoice(id: $id) { status balanceDue pendingPayment { id status amount mode } } }"


async def test_ach_is_pending_until_the_webhook_says_it_cleared(
    pay_gql: GraphQLClient, pay_http: object, payers: Payers, factory: Factory, stripe_fake: FakeStripe, db: Database
) -> None:
    # given an invoice paid by bank debit
    invoice = await factory.invoice(payers.tenant.contact_a)
    result = await pay(pay_gql, pay_input([invoice], bank=stripe_fake.bank_account()), payers.a)
    # then the attempt is PROCESSING with a PENDING payment that the invoice shows, and its balance is untouched
    assert result["status"] == "PROCESSING" and result["payment"]["status"] == "PENDING"
    async with db.session() as session:
        assert await session.scalar(select(T_PAYMENT.c.receipt_number)) is None  # (no receipt while it clears)
    [confirm] = stripe_fake.calls("POST", r"/v1/payment_intents/[^/]+/confirm")
    assert confirm.params["mandate_data"]["customer_acceptance"]["type"] == "online"
    assert stripe_fake.calls("POST", "/v1/payment_intents")[0].params["payment_method_types"] == ["us_bank_account"]
    shown = (await pay_gql(INVOICE, {"id": invoice.gid}, as_=payers.a))["invoice"]
    assert shown["status"] == "SENT" and shown["balanceDue"] == "100.00"
    assert shown["pendingPayment"] == {
        "id": result["payment"]["id"],
        "status": "PENDING",
        "amount": "100.00",
        "mode": "ACH",
    }
    assert ("payment_pending", True) in await history(db, invoice)
    # and another payment of it is refused while the debit clears, by card or bank, partial or whole
    for variables in (
        pay_input([invoice], card=stripe_fake.card()),
        pay_input([invoice], bank=stripe_fake.bank_account(), amount="10"),
    ):
        assert (await pay(pay_gql, variables, payers.a))["code"] == "PAYMENT_PENDING"
    # when Stripe reports the debit cleared
    intent = stripe_fake.settle(next(iter(stripe_fake.payment_intents)))
    response = await post_event(pay_http, stripe_fake, stripe_fake.event("payment_intent.succeeded", intent))  # type: ignore[arg-type]
    # then the same payment is SUCCEEDED, allocated, and the invoice PAID
    assert response.status_code == 200
    row = await invoice_row(db, invoice)
    assert (row.status, row.balance_due) == ("PAID", Decimal(0))
    shown = (await pay_gql(INVOICE, {"id": invoice.gid}, as_=payers.a))["invoice"]
    assert shown["pendingPayment"] is None
    async with db.session() as session:
        statuses = (await session.execute(select(T_PAYMENT.c.status, T_PAYMENT.c.receipt_number))).all()
    assert [tuple(row) for row in statuses] == [("SUCCEEDED", "RCT-000001")]  # (its receipt once it cleared)
    assert ("paid", True) in await history(db, invoice)


async def test_a_failed_debit_frees_the_invoice(
    pay_gql: GraphQLClient, pay_http: object, payers: Payers, factory: Factory, stripe_fake: FakeStripe, db: Database
) -> None:
    invoice = await factory.invoice(payers.tenant.contact_a)
    variables = pay_input([invoice], bank=stripe_fake.bank_account())
    first = await pay(pay_gql, variables, payers.a)
    assert first["status"] == "PROCESSING"
    intent = stripe_fake.settle(next(iter(stripe_fake.payment_intents)), succeed=False, code="account_closed")
    await post_event(pay_http, stripe_fake, stripe_fake.event("payment_intent.payment_failed", intent))  # type: ignore[arg-type]
    # the pending payment FAILED, the client sees why, and the invoice can be paid again
    async with db.session() as session:
        assert (await session.scalars(select(T_PAYMENT.c.status))).all() == ["FAILED"]
    assert ("payment_failed", True) in await history(db, invoice)
    replay = await pay(pay_gql, variables, payers.a)
    assert (replay["status"], replay["failureCode"], replay["payment"]["status"]) == (
        "FAILED",
        "BANK_DEBIT_FAILED",
        "FAILED",
    )
    again = await pay(pay_gql, pay_input([invoice], card=stripe_fake.card()), payers.a)
    assert again["status"] == "SUCCEEDED"
    assert (await invoice_row(db, invoice)).status == "PAID"


async def test_three_d_secure_returns_the_client_secret_and_a_retry_finishes_it(
    pay_gql: GraphQLClient, payers: Payers, factory: Factory, stripe_fake: FakeStripe, db: Database
) -> None:
    # given a card that needs 3-D Secure
    invoice = await factory.invoice(payers.tenant.contact_a)
    variables = pay_input([invoice], card=stripe_fake.card("three_d_secure"), key="3ds")
    # when it is paid
    first = await pay(pay_gql, variables, payers.a)
    # then the client gets the PaymentIntent's client secret, and nothing is recorded yet
    intent_id = next(iter(stripe_fake.payment_intents))
    assert first["status"] == "REQUIRES_ACTION" and first["payment"] is None
    assert first["clientSecret"] == stripe_fake.payment_intents[intent_id]["client_secret"]
    assert (await counts(db))["payments"] == 0
    # when the payer completes 3-D Secure and the frontend sends the same request again
    stripe_fake.complete_action(intent_id)
    second = await pay(pay_gql, variables, payers.a)
    # then the same attempt has SUCCEEDED, with one payment
    assert second["status"] == "SUCCEEDED" and second["clientSecret"] is None
    assert (await invoice_row(db, invoice)).status == "PAID"
    assert len(stripe_fake.calls("POST", r"/v1/payment_intents/[^/]+/confirm")) == 1


async def test_an_abandoned_3ds_attempt_is_replaced_by_the_next_one(
    pay_gql: GraphQLClient, payers: Payers, factory: Factory, stripe_fake: FakeStripe, db: Database
) -> None:
    invoice = await factory.invoice(payers.tenant.contact_a)
    abandoned = await pay(pay_gql, pay_input([invoice], card=stripe_fake.card("three_d_secure")), payers.a)
    assert abandoned["status"] == "REQUIRES_ACTION"
    old_intent = next(iter(stripe_fake.payment_intents))
    # when the payer gives up on 3-D Secure and pays with another card
    result = await pay(pay_gql, pay_input([invoice], card=stripe_fake.card()), payers.a)
    # then the abandoned intent was cancelled at Stripe and the new one paid the invoice once
    assert result["status"] == "SUCCEEDED"
    assert stripe_fake.payment_intents[old_intent]["status"] == "canceled"
    assert len(stripe_fake.calls("POST", r"/v1/payment_intents/[^/]+/cancel")) == 1
    assert (await counts(db))["payments"] == 1


async def test_a_3ds_completed_meanwhile_wins_over_the_replacement(
    pay_gql: GraphQLClient, payers: Payers, factory: Factory, stripe_fake: FakeStripe, db: Database
) -> None:
    # given an attempt waiting for 3-D Secure, which the payer completes in another tab
    invoice = await factory.invoice(payers.tenant.contact_a)
    await pay(pay_gql, pay_input([invoice], card=stripe_fake.card("three_d_secure")), payers.a)
    stripe_fake.complete_action(next(iter(stripe_fake.payment_intents)))
    # when a second attempt starts before the webhook arrives
    result = await pay(pay_gql, pay_input([invoice], card=stripe_fake.card()), payers.a)
    # then the cancel fails at Stripe, the first payment is applied, and the second is refused: charged once
    assert result["code"] == "ALREADY_PAID"
    assert (await counts(db))["payments"] == 1
    assert sum(1 for intent in stripe_fake.payment_intents.values() if intent["status"] == "succeeded") == 1


async def test_staff_see_the_pending_payment_too(
    pay_gql: GraphQLClient, payers: Payers, factory: Factory, stripe_fake: FakeStripe
) -> None:
    invoice = await factory.invoice(payers.tenant.contact_a)
    await pay(pay_gql, pay_input([invoice], bank=stripe_fake.bank_account()), payers.a)
    staff_view = (await pay_gql(INVOICE, {"id": invoice.gid}, as_=payers.staff))["invoice"]
    rival_view = await pay_gql.raw(INVOICE, {"id": invoice.gid}, as_=payers.rival_staff)
    assert staff_view["pendingPayment"]["status"] == "PENDING"
    assert rival_view.data == {"invoice": None}
    assert PAY  # the mutation text is shared with the other tests
