"""The typed attempt: ``PaymentAttempt`` is built from a ``payment_attempt`` row in one place, with every column."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import select

from core.database import Database
from services.payments.attempts import ATTEMPT_FIELDS, T_ATTEMPT, PaymentAttempt, read_attempt
from tests.client import GraphQLClient
from tests.factories import Factory
from tests.pay.conftest import Payers, pay, pay_input
from tests.stripe_fake import FakeStripe


def test_the_dataclass_has_exactly_the_tables_columns() -> None:
    # a column added to the table without a field (or the reverse) would be dropped or fail in from_row
    assert set(ATTEMPT_FIELDS) == {column.name for column in T_ATTEMPT.columns}


async def test_an_attempt_read_back_is_the_row_typed_and_frozen(
    pay_gql: GraphQLClient, payers: Payers, factory: Factory, stripe_fake: FakeStripe, db: Database
) -> None:
    # given an attempt that paid an invoice by card
    invoice = await factory.invoice(payers.tenant.contact_a)
    assert (await pay(pay_gql, pay_input([invoice], card=stripe_fake.card()), payers.a))["status"] == "SUCCEEDED"
    async with db.session() as session:
        row = (await session.execute(select(T_ATTEMPT))).one()
        # when it is read as a PaymentAttempt
        attempt = await read_attempt(session, row.id)
    # then every value is the row's, and it cannot be changed by accident
    assert dataclasses.asdict(attempt) == dict(row._mapping)
    assert (attempt.status, attempt.method_type, attempt.awaits_gateway) == ("SUCCEEDED", "CARD", False)
    assert attempt.payer().contact_person_id == payers.tenant.person_a.pk
    with pytest.raises(dataclasses.FrozenInstanceError):
        attempt.status = "FAILED"  # type: ignore[misc]
    assert isinstance(attempt, PaymentAttempt)
