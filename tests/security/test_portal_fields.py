"""What a portal viewer can read, field by field: a new field is either in the committed list on purpose or marked
staff only (``schema.base.staff_only``), so staff-only data cannot reach the portal unnoticed.

Update the list after a deliberate change: ``.venv/bin/python -m tests.security.test_portal_fields --write``.
"""

from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path

from graphql import GraphQLInterfaceType, GraphQLObjectType
from strawberry.schema.schema_converter import GraphQLCoreConverter

from core.settings import Settings
from schema.base import StaffOnly
from schema.schema import build_schema
from tests.client import GraphQLClient
from tests.factories import Factory
from tests.subscriptions.conftest import Sessions

LISTED = Path(__file__).with_name("portal_visible_fields.txt")


def fields_by_visibility() -> tuple[list[str], list[str]]:
    """``(portal-visible, staff-only)`` as ``Type.field``, over every output type of the schema."""
    schema = build_schema(Settings(_env_file=None))._schema  # type: ignore[call-arg]
    visible, hidden = [], []
    for name, type_ in sorted(schema.type_map.items()):
        if name.startswith("__") or not isinstance(type_, GraphQLObjectType | GraphQLInterfaceType):
            continue
        for field_name, field in sorted(type_.fields.items()):
            definition = (field.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
            marked = any(isinstance(e, StaffOnly) for e in getattr(definition, "extensions", None) or ())
            (hidden if marked else visible).append(f"{name}.{field_name}")
    return visible, hidden


def test_every_field_a_portal_viewer_can_read_is_listed_on_purpose() -> None:
    visible, _ = fields_by_visibility()
    listed = [line for line in LISTED.read_text().splitlines() if line and not line.startswith("#")]
    new, gone = sorted(set(visible) - set(listed)), sorted(set(listed) - set(visible))
    assert not new and not gone, (
        f"portal-visible fields changed: new {new}, gone {gone}. A field staff alone may read takes "
        "schema.base.staff_only(...); otherwise run `.venv/bin/python -m tests.security.test_portal_fields --write`."
    )


def test_the_known_staff_only_fields_are_marked() -> None:
    _, hidden = fields_by_visibility()
    assert {"PortalSettings.notificationEmails", "Contact.notes", "Payment.notes", "Estimate.acceptedIp"} <= set(hidden)


async def test_portal_viewers_get_nothing_from_staff_only_fields(
    gql: GraphQLClient, factory: Factory, sessions: Sessions
) -> None:
    tenant = await factory.tenant()
    staff = await sessions.staff(tenant.owner)
    portal = await sessions.portal(tenant.person_a)
    await gql(
        """mutation { updatePortalSettings(input: {notificationEmails: ["books@org.test"]}) { __typename } }""",
        as_=staff,
    )
    await factory.contact(tenant.org)  # (another contact, unrelated)
    invoice = await factory.invoice(tenant.contact_a)
    await factory.payment(tenant.contact_a, [(invoice, Decimal(10))], notes="chased twice by phone")
    query = """{ portalSettings { notificationEmails }
      contacts { edges { node { id notes } } }
      payments { edges { node { notes } } } }"""
    as_staff = await gql(query, as_=staff)
    assert as_staff["portalSettings"]["notificationEmails"] == ["books@org.test"]
    assert [e["node"]["notes"] for e in as_staff["payments"]["edges"]] == ["chased twice by phone"]
    as_portal = await gql(query, as_=portal)
    assert as_portal["portalSettings"]["notificationEmails"] == []
    assert [e["node"]["notes"] for e in as_portal["contacts"]["edges"]] == [None]
    assert [e["node"]["notes"] for e in as_portal["payments"]["edges"]] == [None]


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        raise SystemExit("usage: python -m tests.security.test_portal_fields --write")
    portal_visible, _ = fields_by_visibility()
    LISTED.write_text(
        "# Every field a portal viewer can read (tests/security/test_portal_fields.py). A field only staff may read\n"
        "# is marked with schema.base.staff_only instead of listed here.\n" + "\n".join(portal_visible) + "\n"
    )
    print(f"{LISTED}: {len(portal_visible)} fields")
