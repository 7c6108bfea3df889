"""History entries carry an ActivityKind (UPPER_CASE, like every enum), `kind` stays for a release as deprecated;
a kind the code does not declare reads as OTHER, and writing one warns (the suite fails on any warning)."""

from __future__ import annotations

import pytest

from core.database import Database
from core.scope import T_ACTIVITY
from models.documents import ACTIVITY_KINDS
from schema.documents.types import ActivityKind
from services.documents.history import UnknownActivityKind, record_activity
from tests.client import GraphQLClient
from tests.factories import Factory
from tests.subscriptions.conftest import Sessions

HISTORY = "query($id: ID!) { invoice(id: $id) { activity { type kind } } }"


def test_every_declared_kind_is_an_enum_value() -> None:
    assert {member.value for member in ActivityKind} == {kind.upper() for kind in ACTIVITY_KINDS} | {"OTHER"}


async def test_entries_answer_their_type_and_unknown_kinds_read_as_other(
    gql: GraphQLClient, factory: Factory, sessions: Sessions, db: Database
) -> None:
    tenant = await factory.tenant()
    invoice = await factory.invoice(tenant.contact_a)
    for kind in ("sent", "from_the_future"):
        await factory._insert(
            T_ACTIVITY,
            "Activity",
            {
                "organization_id": tenant.org.pk,
                "contact_id": tenant.contact_a.pk,
                "invoice_id": invoice.pk,
                "kind": kind,
            },
        )
    history = (await gql(HISTORY, {"id": invoice.gid}, as_=await sessions.staff(tenant.owner)))["invoice"]["activity"]
    assert history == [{"type": "SENT", "kind": "sent"}, {"type": "OTHER", "kind": "from_the_future"}]


async def test_writing_an_undeclared_kind_warns(factory: Factory, db: Database) -> None:
    tenant = await factory.tenant()
    with pytest.warns(UnknownActivityKind, match="from_the_future"):
        async with db.transaction() as session:
            await record_activity(
                session, viewer=None, organization_id=tenant.org.pk, kind="from_the_future", description="?"
            )
