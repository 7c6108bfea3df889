"""Without a Stripe key: the SIMULATED gateway pays at once (or declines on request); CARD and ACH are refused."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from core.database import Database
from core.settings import Settings
from tests.client import GraphQLClient
from tests.factories import Factory
from tests.pay.conftest import SAVED, counts, history, invoice_row, pay, pay_input, published, token


async def test_simulated_payments_work_end_to_end_without_stripe(
    gql: GraphQLClient, factory: Factory, db: Database, settings: Settings, app: object
) -> None:
    # given an installation without STRIPE_SECRET_KEY (the session's default app) and two invoices
    tenant = await factory.tenant()
    person = await token(db, settings, organization_id=tenant.org.pk, person=tenant.person_a)
    first = await factory.invoice(tenant.contact_a)
    second = await factory.invoice(tenant.contact_a)
    variables = pay_input([first, second], simulated="", key="sim")
    # when the portal user pays both with the simulated gateway
    async with published(app, tenant.org.pk) as events:
        result = await pay(gql, variables, person)
    # then it succeeds at once: a SIMULATED payment allocated to both invoices, history and events
    assert (result["status"], result["methodType"], result["amount"]) == ("SUCCEEDED", "SIMULATED", "200.00")
    assert result["payment"]["mode"] == "SIMULATED"
    assert [(await invoice_row(db, invoice)).status for invoice in (first, second)] == ["PAID", "PAID"]
    assert ("paid", True) in await history(db, first)
    assert sorted(event["type"] for event in events) == ["DocumentStatusChanged"] * 2 + ["PaymentReceived"]
    # and the same key replays it
    assert (await pay(gql, variables, person))["payment"]["id"] == result["payment"]["id"]
    assert (await counts(db))["payments"] == 1


async def test_a_simulated_decline_and_the_refusals_without_stripe(
    gql: GraphQLClient, factory: Factory, db: Database, settings: Settings
) -> None:
    tenant = await factory.tenant()
    person = await token(db, settings, organization_id=tenant.org.pk, person=tenant.person_a)
    invoice = await factory.invoice(tenant.contact_a)
    declined = await pay(gql, pay_input([invoice], simulated="pm_simulated_decline"), person)
    assert (declined["status"], declined["failureCode"], declined["payment"]) == ("FAILED", "CARD_DECLINED", None)
    codes = [
        (await pay(gql, variables, person)).get("code")
        for variables in (
            pay_input([invoice], card="pm_card_visa"),
            pay_input([invoice], bank="pm_bank"),
            pay_input([invoice], simulated="", save=True),
            pay_input([await factory.invoice(tenant.contact_a, payment_gateways=[])], simulated=""),
        )
    ]
    assert codes == ["GATEWAY_NOT_CONFIGURED", "GATEWAY_NOT_CONFIGURED", "INVALID_INPUT", "GATEWAY_NOT_ALLOWED"]
    row = await invoice_row(db, invoice)
    assert (row.status, row.balance_due) == ("SENT", Decimal(100))
    # a partial simulated payment
    partial = await pay(gql, pay_input([invoice], simulated="", amount="40"), person)
    assert partial["status"] == "SUCCEEDED" and (await invoice_row(db, invoice)).balance_due == Decimal(60)
    assert (await gql(SAVED, as_=person))["savedPaymentMethods"] == []


async def test_available_payment_methods_say_which_gateway_is_on(
    gql: GraphQLClient, pay_gql: GraphQLClient, factory: Factory, db: Database, settings: Settings
) -> None:
    tenant = await factory.tenant()
    card_only = await factory.organization(payment_gateways=["CARD"])
    card_only_staff = await factory.staff(card_only)
    person = await token(db, settings, organization_id=tenant.org.pk, person=tenant.person_a)
    staff = await token(db, settings, organization_id=card_only.pk, staff=card_only_staff)
    query = "{ availablePaymentMethods }"
    # without Stripe: only the simulated gateway; with Stripe: what the organization offers
    assert (await gql(query, as_=person))["availablePaymentMethods"] == ["SIMULATED"]
    assert (await pay_gql(query, as_=person))["availablePaymentMethods"] == ["CARD", "ACH"]
    assert (await pay_gql(query, as_=staff))["availablePaymentMethods"] == ["CARD"]
    assert (await gql.raw(query)).error_codes == ["UNAUTHENTICATED"]


async def test_simulated_obeys_the_invoices_gateways_like_a_card(
    gql: GraphQLClient, factory: Factory, db: Database, settings: Settings
) -> None:
    tenant = await factory.tenant()
    person = await token(db, settings, organization_id=tenant.org.pk, person=tenant.person_a)
    ach_only = await factory.invoice(tenant.contact_a, payment_gateways=["ACH"])
    answer = await pay(gql, pay_input([ach_only], simulated="", key="ach-only"), person)
    assert answer.get("code") == "GATEWAY_NOT_ALLOWED"
    row = await invoice_row(db, ach_only)
    assert (row.status, row.balance_due) == ("SENT", Decimal(100))
    assert (await counts(db))["payments"] == 0


async def test_simulated_never_runs_in_production_even_without_stripe(
    factory: Factory, db: Database, settings: Settings
) -> None:
    from httpx import ASGITransport, AsyncClient

    from app import create_app

    production = settings.model_copy(update={"environment": "production", "persisted_only": False})
    tenant = await factory.tenant()
    person = await token(db, settings, organization_id=tenant.org.pk, person=tenant.person_a)
    invoice = await factory.invoice(tenant.contact_a)
    application = create_app(production)
    async with application.router.lifespan_context(application):
        async with AsyncClient(transport=ASGITransport(app=application), base_url="https://portico.test") as client:
            gql = GraphQLClient(client)
            assert (await gql("{ availablePaymentMethods }", as_=person))["availablePaymentMethods"] == []
            answer = await pay(gql, pay_input([invoice], simulated="", key="prod"), person)
    assert answer.get("code") == "SIMULATED_NOT_ALLOWED"
    row = await invoice_row(db, invoice)
    assert (row.status, row.balance_due) == ("SENT", Decimal(100))
    assert (await counts(db))["payments"] == 0


def test_production_settings_refuse_to_turn_simulated_on() -> None:
    import pytest
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="SIMULATED_PAYMENTS"):
        Settings(_env_file=None, environment="production", simulated_payments=True)  # type: ignore[call-arg]
    assert not Settings(_env_file=None, environment="production").simulated_payments_enabled  # type: ignore[call-arg]
    assert Settings(_env_file=None, environment="development").simulated_payments_enabled  # type: ignore[call-arg]
    off = Settings(_env_file=None, environment="development", simulated_payments=False)  # type: ignore[call-arg]
    assert not off.simulated_payments_enabled


RECEIPTS = "query($first: Int) { payments(first: $first) { edges { node { amount receiptNumber } } } }"


async def test_each_succeeded_payment_gets_the_organizations_next_receipt_number(
    gql: GraphQLClient, factory: Factory, db: Database, settings: Settings
) -> None:
    # given two organizations, each with a client and invoices
    ours, theirs = await factory.tenant(), await factory.tenant()
    person = await token(db, settings, organization_id=ours.org.pk, person=ours.person_a)
    rival = await token(db, settings, organization_id=theirs.org.pk, person=theirs.person_a)
    invoices = [await factory.invoice(ours.contact_a) for _ in range(3)]
    # when the client pays twice (once two invoices together), a declined attempt in between
    first = await pay(gql, pay_input(invoices[:2], simulated=""), person)
    declined = await pay(gql, pay_input([invoices[2]], simulated="pm_simulated_decline"), person)
    second = await pay(gql, pay_input([invoices[2]], simulated=""), person)
    other = await pay(gql, pay_input([await factory.invoice(theirs.contact_a)], simulated=""), rival)
    # then each succeeded payment has the next number of its organization, the declined one took none
    assert (first["status"], declined["status"], second["status"], other["status"]) == (
        "SUCCEEDED",
        "FAILED",
        "SUCCEEDED",
        "SUCCEEDED",
    )
    listed = (await gql(RECEIPTS, {"first": 10}, as_=person))["payments"]["edges"]
    assert sorted(edge["node"]["receiptNumber"] for edge in listed) == ["RCT-000001", "RCT-000002"]
    assert (await gql(RECEIPTS, {"first": 10}, as_=rival))["payments"]["edges"][0]["node"]["receiptNumber"] == (
        "RCT-000001"
    )


async def test_parallel_payments_take_every_receipt_number_once(
    gql: GraphQLClient, factory: Factory, db: Database, settings: Settings
) -> None:
    # given 20 invoices of one client, paid by 20 requests at once
    tenant = await factory.tenant()
    person = await token(db, settings, organization_id=tenant.org.pk, person=tenant.person_a)
    invoices = [await factory.invoice(tenant.contact_a) for _ in range(20)]
    results = await asyncio.gather(*(pay(gql, pay_input([invoice], simulated=""), person) for invoice in invoices))
    # then every one succeeded with its own number, and the numbers run 1..20 without a gap
    assert {result["status"] for result in results} == {"SUCCEEDED"}
    listed = (await gql(RECEIPTS, {"first": 100}, as_=person))["payments"]["edges"]
    assert sorted(edge["node"]["receiptNumber"] for edge in listed) == [f"RCT-{n:06d}" for n in range(1, 21)]
