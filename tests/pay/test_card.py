"""payInvoices by card: what reaches Stripe, what is recorded, and every refusal."""

from __future__ import annotations

import hashlib
from decimal import Decimal

from sqlalchemy import select

from core.database import Database
from core.scope import T_CONTACT, T_PAYMENT
from services.documents.lines import LineDraft
from tests.client import GraphQLClient
from tests.factories import Factory
from tests.pay.conftest import PAY, Payers, counts, history, invoice_row, pay, pay_input, published
from tests.stripe_fake import FakeStripe


async def test_a_card_pays_an_invoice_in_full(
    pay_gql: GraphQLClient, payers: Payers, factory: Factory, stripe_fake: FakeStripe, db: Database, pay_app: object
) -> None:
    # given a SENT invoice of 100.00 USD and a card collected by Stripe.js
    invoice = await factory.invoice(payers.tenant.contact_a)
    card = stripe_fake.card()
    variables = pay_input([invoice], card=card, key="client-key-1")
    # when contact A's portal user pays it
    async with published(pay_app, payers.tenant.org.pk) as events:
        result = await pay(pay_gql, variables, payers.a)
    # then the attempt succeeded and the invoice is paid
    assert result["__typename"] == "PaymentAttempt"
    assert (result["status"], result["amount"], result["currency"], result["clientSecret"]) == (
        "SUCCEEDED",
        "100.00",
        "USD",
        None,
    )
    assert result["payment"]["status"] == "SUCCEEDED" and result["payment"]["mode"] == "CARD"
    assert result["payment"]["allocations"] == [{"amount": "100.00", "invoice": {"id": invoice.gid}}]
    assert result["invoices"] == [
        {"id": invoice.gid, "status": "PAID", "balanceDue": "0.00", "amountPaid": "100.00", "pendingPayment": None}
    ]
    # and Stripe got one customer and one PaymentIntent: minor units, currency, customer, metadata, derived keys
    [customer_call] = stripe_fake.calls("POST", "/v1/customers")
    [create] = stripe_fake.calls("POST", "/v1/payment_intents")
    [confirm] = stripe_fake.calls("POST", r"/v1/payment_intents/[^/]+/confirm")
    customer_id = next(iter(stripe_fake.customers))
    assert create.params["amount"] == "10000" and create.params["currency"] == "usd"
    assert create.params["customer"] == customer_id and create.params["payment_method"] == card
    assert create.params["payment_method_types"] == ["card"]
    assert create.params["metadata"]["portico_invoice_ids"] == str(invoice.pk)
    assert create.params["metadata"]["portico_contact_id"] == str(payers.tenant.contact_a.pk)
    assert "setup_future_usage" not in create.params
    seed = f"{payers.tenant.org.pk}:{payers.tenant.person_a.pk}:client-key-1"
    stem = "portico-" + hashlib.sha256(seed.encode()).hexdigest()[:48]
    assert (create.idempotency_key, confirm.idempotency_key) == (f"{stem}-create", f"{stem}-confirm")
    assert customer_call.params["metadata"]["portico_contact_id"] == str(payers.tenant.contact_a.pk)
    async with db.session() as session:
        stored_customer = await session.scalar(
            select(T_CONTACT.c.stripe_customer_id).where(T_CONTACT.c.id == payers.tenant.contact_a.pk)
        )
        payment = (await session.execute(select(T_PAYMENT))).one()
    assert stored_customer == customer_id
    assert (payment.gateway, payment.gateway_reference) == ("STRIPE", next(iter(stripe_fake.payment_intents)))
    # and a client-visible "paid" entry, a paymentReceived and a documentStatusChanged event after commit
    assert ("paid", True) in await history(db, invoice)
    kinds = [(event["type"], event.get("status")) for event in events]
    assert ("PaymentReceived", None) in kinds and ("DocumentStatusChanged", "PAID") in kinds


async def test_pay_all_outstanding_is_one_charge_with_an_allocation_per_invoice(
    pay_gql: GraphQLClient, payers: Payers, factory: Factory, stripe_fake: FakeStripe, db: Database
) -> None:
    # given three invoices, one of them partly paid already
    contact = payers.tenant.contact_a
    first = await factory.invoice(contact)
    second = await factory.invoice(contact, lines=[LineDraft(name="Audit", quantity=Decimal(1), rate=Decimal("19.99"))])
    third = await factory.invoice(contact, status="PARTIALLY_PAID", amount_paid=Decimal(40))
    # when they are paid together
    result = await pay(pay_gql, pay_input([first, second, third], card=stripe_fake.card()), payers.a)
    # then one PaymentIntent for the sum of the balances, and each invoice got its balance
    assert result["status"] == "SUCCEEDED" and result["amount"] == "179.99"
    [create] = stripe_fake.calls("POST", "/v1/payment_intents")
    assert create.params["amount"] == "17999"
    assert create.params["metadata"]["portico_invoice_ids"] == f"{first.pk},{second.pk},{third.pk}"
    assert sorted((a["invoice"]["id"], a["amount"]) for a in result["payment"]["allocations"]) == sorted(
        [(first.gid, "100.00"), (second.gid, "19.99"), (third.gid, "60.00")]
    )
    assert {invoice["status"] for invoice in result["invoices"]} == {"PAID"}


async def test_a_partial_amount_pays_part_of_one_invoice(
    pay_gql: GraphQLClient, payers: Payers, factory: Factory, stripe_fake: FakeStripe, db: Database
) -> None:
    invoice = await factory.invoice(payers.tenant.contact_a)
    result = await pay(pay_gql, pay_input([invoice], card=stripe_fake.card(), amount="25.5"), payers.a)
    assert result["status"] == "SUCCEEDED" and result["amount"] == "25.50"
    assert stripe_fake.calls("POST", "/v1/payment_intents")[0].params["amount"] == "2550"
    row = await invoice_row(db, invoice)
    assert (row.status, row.balance_due) == ("PARTIALLY_PAID", Decimal("74.50"))


async def test_minor_units_follow_the_currency(
    pay_gql: GraphQLClient, payers: Payers, factory: Factory, stripe_fake: FakeStripe, db: Database
) -> None:
    # given a contact billed in yen (no minor unit) with a ¥12,345 invoice
    contact = await factory.contact(payers.tenant.org, currency="JPY")
    person = await factory.person(contact)
    from tests.pay.conftest import token

    person_token = await token(db, factory.settings, organization_id=payers.tenant.org.pk, person=person)
    invoice = await factory.invoice(contact, lines=[LineDraft(name="Work", quantity=Decimal(1), rate=Decimal(12345))])
    # when it is paid
    result = await pay(pay_gql, pay_input([invoice], card=stripe_fake.card()), person_token)
    # then Stripe is asked for 12345 (not 1234500) JPY
    assert result["status"] == "SUCCEEDED" and result["currency"] == "JPY"
    [create] = stripe_fake.calls("POST", "/v1/payment_intents")
    assert (create.params["amount"], create.params["currency"]) == ("12345", "jpy")


async def test_declines_come_back_typed_and_charge_nothing(
    pay_gql: GraphQLClient, payers: Payers, factory: Factory, stripe_fake: FakeStripe, db: Database
) -> None:
    invoice = await factory.invoice(payers.tenant.contact_a)
    outcomes = {}
    for behavior in ("decline", "insufficient_funds", "expired_card"):
        result = await pay(pay_gql, pay_input([invoice], card=stripe_fake.card(behavior)), payers.a)
        outcomes[behavior] = (result["status"], result["failureCode"], result["payment"])
    assert outcomes == {
        "decline": ("FAILED", "CARD_DECLINED", None),
        "insufficient_funds": ("FAILED", "INSUFFICIENT_FUNDS", None),
        "expired_card": ("FAILED", "EXPIRED_CARD", None),
    }
    assert (await counts(db))["payments"] == 0
    assert ("payment_failed", False) in await history(db, invoice)
    # and a failed attempt does not hold the invoice: another card pays it
    result = await pay(pay_gql, pay_input([invoice], card=stripe_fake.card()), payers.a)
    assert result["status"] == "SUCCEEDED"


async def test_refusals_have_codes_and_change_nothing(
    pay_gql: GraphQLClient, payers: Payers, factory: Factory, stripe_fake: FakeStripe, db: Database
) -> None:
    contact = payers.tenant.contact_a
    invoice = await factory.invoice(contact)
    other = await factory.invoice(contact)
    paid = await factory.invoice(contact, status="PAID", amount_paid=Decimal(100))
    void = await factory.invoice(contact, status="VOID")
    draft = await factory.invoice(contact, status="DRAFT")
    card_only = await factory.invoice(contact, payment_gateways=["CARD"])
    euro_contact_invoice = await factory.invoice(contact, currency="EUR")
    card = stripe_fake.card()
    bank = stripe_fake.bank_account()
    cases = {
        "draft": (pay_input([draft], card=card), "NOT_FOUND"),
        "contact B's invoice": (pay_input([await factory.invoice(payers.tenant.contact_b)], card=card), "NOT_FOUND"),
        "another organization's": (pay_input([await factory.invoice(payers.rival.contact_a)], card=card), "NOT_FOUND"),
        "malformed id": ({"input": {**pay_input([invoice], card=card)["input"], "invoiceIds": ["nope"]}}, "NOT_FOUND"),
        "paid": (pay_input([paid], card=card), "ALREADY_PAID"),
        "void": (pay_input([void], card=card), "INVALID_STATE"),
        "amount over the balance": (pay_input([invoice], card=card, amount="100.01"), "EXCEEDS_BALANCE"),
        "amount with two invoices": (pay_input([invoice, other], card=card, amount="10"), "INVALID_INPUT"),
        "amount of zero": (pay_input([invoice], card=card, amount="0"), "INVALID_INPUT"),
        "three decimals": (pay_input([invoice], card=card, amount="1.005"), "INVALID_INPUT"),
        "twice the same invoice": (pay_input([invoice, invoice], card=card), "INVALID_INPUT"),
        "no payment method": (pay_input([invoice], card=None), "INVALID_INPUT"),
        "not a pm id": (pay_input([invoice], card="tok_visa"), "INVALID_INPUT"),
        "empty idempotency key": (pay_input([invoice], card=card, key=""), "INVALID_INPUT"),
        "mixed currencies": (pay_input([invoice, euro_contact_invoice], card=card), "CURRENCY_MISMATCH"),
        "ACH on a card-only invoice": (pay_input([card_only], bank=bank), "GATEWAY_NOT_ALLOWED"),
        "SIMULATED with Stripe configured": (pay_input([invoice], simulated=""), "SIMULATED_NOT_ALLOWED"),
        "unknown pm": (pay_input([invoice], card="pm_unknown"), "INVALID_PAYMENT_METHOD"),
        "a bank account as CARD": (pay_input([invoice], card=bank), "INVALID_PAYMENT_METHOD"),
        "another customer's card": (
            pay_input([invoice], card=stripe_fake.card(customer="cus_someone_else")),
            "INVALID_PAYMENT_METHOD",
        ),
        "unknown saved method": (pay_input([invoice], saved="U2F2ZWRQYXltZW50TWV0aG9kOjk5OTk"), "NOT_FOUND"),
    }
    before = await counts(db)
    codes = {}
    for name, (variables, _) in cases.items():
        result = await pay(pay_gql, variables, payers.a)
        codes[name] = result.get("code", result["__typename"])
    assert codes == {name: code for name, (_, code) in cases.items()}
    assert await counts(db) == before
    assert not stripe_fake.calls("POST", "/v1/payment_intents")


async def test_staff_and_anonymous_cannot_pay(
    pay_gql: GraphQLClient, payers: Payers, factory: Factory, stripe_fake: FakeStripe, db: Database
) -> None:
    # staff record money received with recordPayment; payInvoices is the portal user's
    invoice = await factory.invoice(payers.tenant.contact_a)
    variables = pay_input([invoice], card=stripe_fake.card())
    staff = await pay_gql.raw(PAY, variables, as_=payers.staff)
    anonymous = await pay_gql.raw(PAY, variables)
    assert (staff.error_codes, anonymous.error_codes) == (["FORBIDDEN"], ["UNAUTHENTICATED"])
    assert (await counts(db))["attempts"] == 0
