"""Payments tests: the real ``stripe`` library against ``tests/stripe_fake.py``, an app configured for it."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from httpx import ASGITransport, AsyncClient, Response
from sqlalchemy import func, select

from app import create_app
from core.auth import issue_session
from core.database import Database
from core.scope import T_ACTIVITY, T_ALLOCATION, T_INVOICE, T_PAYMENT
from core.settings import Settings
from services.payments.attempts import T_ATTEMPT
from subscriptions.events import organization_channel
from tests.client import GraphQLClient
from tests.conftest import base_settings
from tests.factories import Factory, Row, Tenant
from tests.stripe_fake import WEBHOOK_SECRET, FakeStripe

PAY = """
mutation Pay($input: PayInvoicesInput!) {
  payInvoices(input: $input) {
    __typename
    ... on PaymentAttempt {
      status clientSecret amount currency methodType failureCode
      payment { id status amount mode allocations { amount invoice { id } } }
      invoices { id status balanceDue amountPaid pendingPayment { id status } }
    }
    ... on PayInvoicesError { code field message }
  }
}
"""

SAVED = "{ savedPaymentMethods { id type brand bankName last4 expMonth expYear contact { id } } }"

REMOVE = """
mutation Remove($id: ID!) {
  removeSavedPaymentMethod(id: $id) {
    __typename
    ... on SavedPaymentMethod { id last4 }
    ... on RemoveSavedPaymentMethodError { code }
  }
}
"""


@pytest.fixture(scope="session")
def stripe_fake() -> Iterator[FakeStripe]:
    fake = FakeStripe()
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture(autouse=True)
def fresh_stripe(stripe_fake: FakeStripe) -> None:
    stripe_fake.reset()


@pytest.fixture(scope="session")
def pay_settings(settings: Settings, stripe_fake: FakeStripe) -> Settings:
    return base_settings(
        database_url=settings.database_url,
        stripe_secret_key=stripe_fake.secret_key,
        stripe_api_base=stripe_fake.url,
        stripe_webhook_secret=WEBHOOK_SECRET,
        stripe_timeout_seconds=5.0,
    )


@pytest.fixture(scope="session")
async def pay_app(pay_settings: Settings, app: Any) -> AsyncIterator[Any]:
    """The app with Stripe configured (the session's ``app`` has no Stripe key: SIMULATED only)."""
    application = create_app(pay_settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def pay_http(pay_app: Any, db: Database) -> AsyncIterator[AsyncClient]:
    async with AsyncClient(transport=ASGITransport(app=pay_app), base_url="http://portico.test") as client:
        yield client


@pytest.fixture
def pay_gql(pay_http: AsyncClient) -> GraphQLClient:
    return GraphQLClient(pay_http)


@dataclass
class Payers:
    """An organization with two contacts (A and B) with portal users, and a rival organization."""

    tenant: Tenant
    a: str  # token of contact A's portal user
    b: str  # token of contact B's portal user
    staff: str
    rival: Tenant
    rival_a: str
    rival_staff: str


async def token(
    db: Database, settings: Settings, *, organization_id: int, person: Row | None = None, staff: Row | None = None
) -> str:
    async with db.transaction() as session:
        issued = await issue_session(
            session,
            settings,
            organization_id=organization_id,
            contact_person_id=person.pk if person else None,
            staff_user_id=staff.pk if staff else None,
        )
    return issued.token


@pytest.fixture
async def payers(factory: Factory, db: Database, pay_settings: Settings) -> Payers:
    ours = await factory.tenant()
    rival = await factory.tenant()
    org = ours.org.pk
    return Payers(
        tenant=ours,
        a=await token(db, pay_settings, organization_id=org, person=ours.person_a),
        b=await token(db, pay_settings, organization_id=org, person=ours.person_b),
        staff=await token(db, pay_settings, organization_id=org, staff=ours.owner),
        rival=rival,
        rival_a=await token(db, pay_settings, organization_id=rival.org.pk, person=rival.person_a),
        rival_staff=await token(db, pay_settings, organization_id=rival.org.pk, staff=rival.owner),
    )


def pay_input(
    invoices: list[Row],
    *,
    card: str | None = None,
    bank: str | None = None,
    saved: str | None = None,
    simulated: str | None = None,
    type_: str | None = None,
    amount: str | None = None,
    save: bool = False,
    key: str | None = None,
) -> dict[str, Any]:
    method: dict[str, Any]
    if simulated is not None or type_ == "SIMULATED":
        method = {"type": "SIMULATED", "stripePaymentMethodId": simulated or None}
    elif bank is not None:
        method = {"type": "ACH", "stripePaymentMethodId": bank}
    elif saved is not None:
        method = {"type": type_ or "CARD", "savedPaymentMethodId": saved}
    else:
        method = {"type": type_ or "CARD", "stripePaymentMethodId": card}
    payload: dict[str, Any] = {
        "invoiceIds": [invoice.gid for invoice in invoices],
        "method": method,
        "idempotencyKey": key if key is not None else str(uuid.uuid4()),
        "savePaymentMethod": save,
    }
    if amount is not None:
        payload["amount"] = amount
    return {"input": payload}


async def pay(gql: GraphQLClient, variables: dict[str, Any], as_: str) -> dict[str, Any]:
    data = await gql(PAY, variables, as_=as_)
    return data["payInvoices"]  # type: ignore[no-any-return]


async def counts(db: Database) -> dict[str, Any]:
    """Payments, allocations, attempts and money recorded, for "nothing changed" and "exactly once" checks."""
    async with db.session() as session:
        return {
            "payments": await session.scalar(select(func.count()).select_from(T_PAYMENT)),
            "allocations": await session.scalar(select(func.count()).select_from(T_ALLOCATION)),
            "attempts": await session.scalar(select(func.count()).select_from(T_ATTEMPT)),
            "paid": await session.scalar(select(func.coalesce(func.sum(T_INVOICE.c.amount_paid), 0))),
        }


async def invoice_row(db: Database, invoice: Row) -> Any:
    async with db.session() as session:
        return (await session.execute(select(T_INVOICE).where(T_INVOICE.c.id == invoice.pk))).one()


async def history(db: Database, invoice: Row) -> list[tuple[str, bool]]:
    async with db.session() as session:
        rows = await session.execute(
            select(T_ACTIVITY.c.kind, T_ACTIVITY.c.client_visible)
            .where(T_ACTIVITY.c.invoice_id == invoice.pk)
            .order_by(T_ACTIVITY.c.id)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


def money(value: Any) -> Decimal:
    return Decimal(str(value))


async def post_event(
    http: AsyncClient,
    fake: FakeStripe,
    event: dict[str, Any],
    *,
    secret: str = WEBHOOK_SECRET,
    timestamp: int | None = None,
    tamper: bool = False,
) -> Response:
    """Deliver ``event`` as Stripe would: the raw JSON body, signed with ``secret``."""
    body = json.dumps(event)
    header = fake.sign(body, secret, timestamp)
    if tamper:
        body = body.replace('"livemode": false', '"livemode": true')
    return await http.post(
        "/webhooks/stripe", content=body, headers={"stripe-signature": header, "content-type": "application/json"}
    )


SENTINEL = {"type": "PayTestSentinel"}


@asynccontextmanager
async def published(app: Any, organization_id: int) -> AsyncIterator[list[dict[str, Any]]]:
    """Events published on the organization's channel while the block runs (complete when it exits)."""
    broker = app.state.runtime.broker
    channel = organization_channel(organization_id)
    events: list[dict[str, Any]] = []
    done = asyncio.Event()
    async with broker.subscribe(channel) as stream:

        async def pump() -> None:
            async for message in stream:
                if message == SENTINEL:
                    done.set()
                    return
                events.append(message)

        task = asyncio.create_task(pump())
        try:
            yield events
            await broker.publish(channel, SENTINEL)
            await asyncio.wait_for(done.wait(), timeout=5)
        finally:
            task.cancel()
