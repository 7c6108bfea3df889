"""Saved payment methods: kept at Stripe per contact, listed with display data, removed (detached) on request."""

from __future__ import annotations

from core.database import Database
from tests.client import GraphQLClient
from tests.factories import Factory
from tests.pay.conftest import REMOVE, SAVED, Payers, counts, pay, pay_input
from tests.stripe_fake import FakeStripe


async def test_a_card_saved_while_paying_is_listed_and_pays_the_next_invoice(
    pay_gql: GraphQLClient, payers: Payers, factory: Factory, stripe_fake: FakeStripe, db: Database
) -> None:
    # given a first payment with "save this card"
    first = await factory.invoice(payers.tenant.contact_a)
    card = stripe_fake.card(brand="mastercard", last4="4444", exp_month=3, exp_year=2031)
    assert (await pay(pay_gql, pay_input([first], card=card, save=True), payers.a))["status"] == "SUCCEEDED"
    # then Stripe was asked to keep it for the contact's customer (created once), and it is listed
    [create] = stripe_fake.calls("POST", "/v1/payment_intents")
    customer = create.params["customer"]
    assert create.params["setup_future_usage"] == "off_session"
    assert stripe_fake.payment_methods[card]["customer"] == customer
    [saved] = (await pay_gql(SAVED, as_=payers.a))["savedPaymentMethods"]
    assert {key: saved[key] for key in ("type", "brand", "bankName", "last4", "expMonth", "expYear")} == {
        "type": "CARD",
        "brand": "mastercard",
        "bankName": None,
        "last4": "4444",
        "expMonth": 3,
        "expYear": 2031,
    }
    assert saved["contact"]["id"] == payers.tenant.contact_a.gid
    # when the next invoice is paid with the saved card
    second = await factory.invoice(payers.tenant.contact_a)
    result = await pay(pay_gql, pay_input([second], saved=saved["id"]), payers.a)
    # then the same customer and payment method are charged, and no second customer is created
    assert result["status"] == "SUCCEEDED"
    latest = stripe_fake.calls("POST", "/v1/payment_intents")[-1]
    assert (latest.params["customer"], latest.params["payment_method"]) == (customer, card)
    assert "setup_future_usage" not in latest.params
    assert len(stripe_fake.calls("POST", "/v1/customers")) == 1
    # and a saved bank account shows its bank
    third = await factory.invoice(payers.tenant.contact_a)
    await pay(pay_gql, pay_input([third], bank=stripe_fake.bank_account(bank_name="FIRST BANK"), save=True), payers.a)
    listed = (await pay_gql(SAVED, as_=payers.a))["savedPaymentMethods"]
    assert [(method["type"], method["bankName"], method["last4"]) for method in listed] == [
        ("ACH", "FIRST BANK", "6789"),
        ("CARD", None, "4444"),
    ]


async def test_a_declined_card_is_not_saved(
    pay_gql: GraphQLClient, payers: Payers, factory: Factory, stripe_fake: FakeStripe
) -> None:
    invoice = await factory.invoice(payers.tenant.contact_a)
    result = await pay(pay_gql, pay_input([invoice], card=stripe_fake.card("decline"), save=True), payers.a)
    assert result["status"] == "FAILED"
    assert (await pay_gql(SAVED, as_=payers.a))["savedPaymentMethods"] == []


async def test_removing_a_saved_method_detaches_it_at_stripe(
    pay_gql: GraphQLClient, payers: Payers, factory: Factory, stripe_fake: FakeStripe
) -> None:
    invoice = await factory.invoice(payers.tenant.contact_a)
    card = stripe_fake.card()
    await pay(pay_gql, pay_input([invoice], card=card, save=True), payers.a)
    [saved] = (await pay_gql(SAVED, as_=payers.a))["savedPaymentMethods"]
    # when Stripe is down, nothing is removed
    stripe_fake.fail_next(r"/v1/payment_methods/[^/]+/detach", "500")
    failed = (await pay_gql(REMOVE, {"id": saved["id"]}, as_=payers.a))["removeSavedPaymentMethod"]
    assert failed == {"__typename": "RemoveSavedPaymentMethodError", "code": "GATEWAY_UNAVAILABLE"}
    assert len((await pay_gql(SAVED, as_=payers.a))["savedPaymentMethods"]) == 1
    # when it is removed
    removed = (await pay_gql(REMOVE, {"id": saved["id"]}, as_=payers.a))["removeSavedPaymentMethod"]
    # then it was detached at Stripe and is gone here; a second removal finds nothing
    assert removed == {"__typename": "SavedPaymentMethod", "id": saved["id"], "last4": "4242"}
    assert stripe_fake.payment_methods[card]["customer"] is None
    assert (await pay_gql(SAVED, as_=payers.a))["savedPaymentMethods"] == []
    again = (await pay_gql(REMOVE, {"id": saved["id"]}, as_=payers.a))["removeSavedPaymentMethod"]
    assert again == {"__typename": "RemoveSavedPaymentMethodError", "code": "NOT_FOUND"}
    # and it cannot pay anymore
    other = await factory.invoice(payers.tenant.contact_a)
    assert (await pay(pay_gql, pay_input([other], saved=saved["id"]), payers.a))["code"] == "NOT_FOUND"


async def test_saved_methods_stay_with_their_contact(
    pay_gql: GraphQLClient, payers: Payers, factory: Factory, stripe_fake: FakeStripe, db: Database
) -> None:
    # given contact A's saved card
    invoice = await factory.invoice(payers.tenant.contact_a)
    card = stripe_fake.card()
    await pay(pay_gql, pay_input([invoice], card=card, save=True), payers.a)
    [saved] = (await pay_gql(SAVED, as_=payers.a))["savedPaymentMethods"]
    b_invoice = await factory.invoice(payers.tenant.contact_b)
    rival_invoice = await factory.invoice(payers.rival.contact_a)
    before = await counts(db)
    # then contact B's user and another organization's users neither see, use nor remove it
    assert (await pay_gql(SAVED, as_=payers.b))["savedPaymentMethods"] == []
    assert (await pay_gql(SAVED, as_=payers.rival_a))["savedPaymentMethods"] == []
    assert (await pay_gql(SAVED, as_=payers.rival_staff))["savedPaymentMethods"] == []
    assert (await pay(pay_gql, pay_input([b_invoice], saved=saved["id"]), payers.b))["code"] == "NOT_FOUND"
    assert (await pay(pay_gql, pay_input([rival_invoice], saved=saved["id"]), payers.rival_a))["code"] == "NOT_FOUND"
    # not even by its Stripe id: the card belongs to contact A's Stripe customer
    by_stripe_id = await pay(pay_gql, pay_input([b_invoice], card=card), payers.b)
    assert by_stripe_id["code"] == "INVALID_PAYMENT_METHOD"
    for intruder in (payers.b, payers.rival_a, payers.rival_staff):
        removal = (await pay_gql(REMOVE, {"id": saved["id"]}, as_=intruder))["removeSavedPaymentMethod"]
        assert removal["code"] == "NOT_FOUND"
    assert await counts(db) == before
    assert stripe_fake.payment_methods[card]["customer"] is not None
    # while the organization's staff see it (and whose it is)
    staff_view = (await pay_gql(SAVED, as_=payers.staff))["savedPaymentMethods"]
    assert [(method["id"], method["contact"]["id"]) for method in staff_view] == [
        (saved["id"], payers.tenant.contact_a.gid)
    ]
