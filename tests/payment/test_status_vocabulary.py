"""Payment modes and statuses: one vocabulary each (the StrEnums in models/payments.py), the same in the migrated
check constraints and in the GraphQL enums; recordPayment's ManualPaymentMode is the hand-recorded part of the modes."""

from __future__ import annotations

from enum import StrEnum

import pytest
from graphql import GraphQLEnumType, build_schema

from core.database import Database
from models.payments import MANUAL_PAYMENT_MODES, PaymentMode, PaymentStatus
from services.schema_file import served_sdl
from tests.project.test_status_vocabulary import constraint_values

VOCABULARIES = [(PaymentMode, "payment_mode"), (PaymentStatus, "payment_status")]


def graphql_values(name: str) -> set[str]:
    enum = build_schema(served_sdl()).get_type(name)
    assert isinstance(enum, GraphQLEnumType)
    return set(enum.values)


@pytest.mark.parametrize(("vocabulary", "constraint"), VOCABULARIES)
async def test_the_migrated_check_constraint_allows_exactly_the_members(
    db: Database, vocabulary: type[StrEnum], constraint: str
) -> None:
    # given the test database, migrated by the Alembic scripts / when its constraint is read back
    values = await constraint_values(db, constraint)
    # then it allows every member and nothing else
    assert values == {member.value for member in vocabulary}


@pytest.mark.parametrize("vocabulary", [vocabulary for vocabulary, _ in VOCABULARIES])
def test_the_graphql_enum_carries_every_member(vocabulary: type[StrEnum]) -> None:
    # given the served schema / when the enum of the same name is read / then its values are the members
    assert graphql_values(vocabulary.__name__) == {member.value for member in vocabulary}


def test_manual_payment_modes_are_the_hand_recorded_modes() -> None:
    # given the served schema / when recordPayment's mode enum is read
    values = graphql_values("ManualPaymentMode")
    # then it is the hand-recorded modes, each a payment mode
    assert values == {mode.value for mode in MANUAL_PAYMENT_MODES} == {"CASH", "CHECK", "BANK_TRANSFER", "OTHER"}
    assert values <= {mode.value for mode in PaymentMode}
