"""One status vocabulary: every member of the models' StrEnums has a PDF stamp entry, a demo row, a value in the
migrated database's check constraint, and a value in each GraphQL enum that carries it."""

from __future__ import annotations

import re
from enum import StrEnum

import pytest
from sqlalchemy import select, text

from core.database import Database
from core.scope import T_INVOICE
from core.settings import Settings
from models.estimates import ESTIMATE_DERIVED, EstimateStatus
from models.invoices import INVOICE_DERIVED, InvoiceKind, InvoiceStatus
from schema.documents.events import DocumentStatus
from services.demo.seed import seed_demo
from services.documents.pdf import STAMPS
from services.documents.statuses import ESTIMATE_STATUS, INVOICE_STATUS

VOCABULARIES: list[tuple[type[StrEnum], str, frozenset[StrEnum]]] = [
    (EstimateStatus, "estimate_status", ESTIMATE_DERIVED),
    (InvoiceStatus, "invoice_status", INVOICE_DERIVED),
    (InvoiceKind, "invoice_kind", frozenset()),
]


async def constraint_values(db: Database, name: str) -> set[str]:
    """The quoted values of check constraint ``name`` as the migrations made it (read from pg_constraint)."""
    async with db.session() as session:
        definition = await session.scalar(
            text("SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = :name"), {"name": name}
        )
    assert definition is not None, f"no constraint {name}"
    return set(re.findall(r"'([A-Z_]+)'", definition))


@pytest.mark.parametrize("vocabulary", [EstimateStatus, InvoiceStatus])
def test_every_status_has_a_stamp_entry(vocabulary: type[StrEnum]) -> None:
    # None is an entry too: the status reads "in play" and the PDF shows no stamp (SENT)
    assert set(vocabulary) <= set(STAMPS)


def test_the_event_payload_carries_every_status() -> None:
    # forget one and every documentStatusChanged stream raises on the first event in that status
    assert {status.value for status in DocumentStatus} == {*EstimateStatus, *InvoiceStatus}


@pytest.mark.parametrize(("vocabulary", "constraint", "derived"), VOCABULARIES)
async def test_every_stored_value_is_in_the_migrated_check_constraint(
    db: Database, vocabulary: type[StrEnum], constraint: str, derived: frozenset[StrEnum]
) -> None:
    # given the test database, migrated by the Alembic scripts / when its constraint is read back
    values = await constraint_values(db, constraint)
    # then it allows exactly the stored members: a derived status (EXPIRED, OVERDUE) is computed from the dates
    # when a row is read and is never written, so the constraint refuses it
    assert values == {member.value for member in vocabulary} - {member.value for member in derived}


async def test_the_demo_has_a_document_in_every_status_and_kind(db: Database, settings: Settings) -> None:
    # given the demo data / when the effective statuses of its documents are read
    await seed_demo(db, settings)
    async with db.session() as session:
        estimates = set((await session.scalars(select(ESTIMATE_STATUS))).all())
        invoices = set((await session.scalars(select(INVOICE_STATUS))).all())
        kinds = set((await session.scalars(select(T_INVOICE.c.kind))).all())
    # then every member of each vocabulary is there at least once
    assert estimates == {status.value for status in EstimateStatus}
    assert invoices == {status.value for status in InvoiceStatus}
    assert kinds == {kind.value for kind in InvoiceKind}
