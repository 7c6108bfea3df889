"""``node(id)`` answers every type that implements Node (the list comes from the schema: a new type without a loader
fails here), for whoever may see the object, and null for anyone else: another tenant, another contact's person, a
portal person for staff-only rows, another person's session."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from graphql import GraphQLObjectType

from core.database import Database
from core.ids import NODE_TYPES, to_global_id
from core.scope import T_ACTIVITY, T_REVIEW, T_SAVED_METHOD
from core.settings import Settings
from resolvers.node import NODE_LOADERS
from schema.schema import build_schema
from tests.client import GraphQLClient
from tests.factories import Factory, Tenant
from tests.subscriptions.conftest import Sessions

NODE = "query($id: ID!) { node(id: $id) { __typename id } }"
MY_SESSIONS = "{ mySessions { id current } }"


def node_types(settings: Settings) -> set[str]:
    schema = build_schema(settings)._schema
    return {
        name
        for name, kind in schema.type_map.items()
        if isinstance(kind, GraphQLObjectType) and any(i.name == "Node" for i in kind.interfaces)
    }


def test_every_node_type_has_a_loader(settings: Settings) -> None:
    assert node_types(settings) == set(NODE_LOADERS)
    assert {prefix for prefix, _ in NODE_LOADERS.values()} == NODE_TYPES  # (the ids core.ids accepts)


async def _objects(factory: Factory, tenant: Tenant) -> dict[str, str]:
    """One object of each Node type in ``tenant``, all of contact A (its person may see them), by type."""
    org, contact, person = tenant.org, tenant.contact_a, tenant.person_a
    estimate = await factory.estimate(contact)
    invoice = await factory.invoice(contact)
    project = await factory.project(contact)
    task = await factory.task(project)
    entry = await factory.time_entry(task)
    payment = await factory.payment(contact, [(invoice, Decimal("10.00"))])
    activity = await factory._insert(
        T_ACTIVITY,
        "Activity",
        {
            "organization_id": org.pk,
            "contact_id": contact.pk,
            "invoice_id": invoice.pk,
            "kind": "sent",
            "client_visible": True,
        },
    )
    review = await factory._insert(
        T_REVIEW,
        "Review",
        {"organization_id": org.pk, "contact_id": contact.pk, "contact_person_id": person.pk, "rating": 5},
    )
    method = await factory._insert(
        T_SAVED_METHOD,
        "SavedPaymentMethod",
        {
            "organization_id": org.pk,
            "contact_id": contact.pk,
            "stripe_payment_method_id": f"pm_node_{contact.pk}",
            "type": "CARD",
            "brand": "visa",
            "last4": "4242",
        },
    )
    return {
        "Activity": activity.gid,
        "Comment": (await factory.comment(invoice, person=person)).gid,
        "Contact": contact.gid,
        "ContactPerson": person.gid,
        "Estimate": estimate.gid,
        "Invoice": invoice.gid,
        "Organization": to_global_id("Organization", org.pk),
        "Project": project.gid,
        "Review": review.gid,
        "SavedPaymentMethod": method.gid,
        "StaffUser": tenant.owner.gid,
        "Task": task.gid,
        "TimeEntry": entry.gid,
        "Payment": payment.gid,
    }


async def _node(gql: GraphQLClient, token: str, gid: str) -> Any:
    result = await gql.raw(NODE, {"id": gid}, as_=token)
    assert not result.errors, result.errors
    return result.data["node"]


async def test_node_answers_each_type_for_its_owner_only(
    gql: GraphQLClient, factory: Factory, sessions: Sessions, db: Database, settings: Settings
) -> None:
    ours, rival = await factory.tenant(), await factory.tenant()
    objects = await _objects(factory, ours)
    staff, person = await sessions.staff(ours.owner), await sessions.portal(ours.person_a)
    sessions_of = {
        token: next(s["id"] for s in (await gql(MY_SESSIONS, as_=token))["mySessions"] if s["current"])
        for token in (staff, person)
    }
    assert set(objects) | {"ActiveSession"} == node_types(settings)
    outsiders = {
        "the rival's staff": await sessions.staff(rival.owner),
        "the rival's client": await sessions.portal(rival.person_a),
        "a client of another contact": await sessions.portal(ours.person_b),
    }
    portal_never = {"StaffUser"}  # (a portal person sees no staff rows)
    for type_name, gid in objects.items():
        # the staff of the organization, and contact A's person (but for staff rows), get it
        assert await _node(gql, staff, gid) == {"__typename": type_name, "id": gid}, type_name
        expected = None if type_name in portal_never else {"__typename": type_name, "id": gid}
        assert await _node(gql, person, gid) == expected, type_name
        for who, token in outsiders.items():
            found = await _node(gql, token, gid)
            # (a portal person of contact B shares only the organization, and its staff are never visible)
            if who == "a client of another contact" and type_name == "Organization":
                assert found == {"__typename": "Organization", "id": gid}
            else:
                assert found is None, (type_name, who)
    # a session: its own person's only
    for token, session_gid in sessions_of.items():
        assert await _node(gql, token, session_gid) == {"__typename": "ActiveSession", "id": session_gid}
        for other in (set(sessions_of) - {token}) | set(outsiders.values()):
            assert await _node(gql, other, session_gid) is None


async def test_a_history_entry_is_hidden_with_its_document(
    gql: GraphQLClient, factory: Factory, sessions: Sessions
) -> None:
    tenant = await factory.tenant()
    draft = await factory.invoice(tenant.contact_a, status="DRAFT")
    entry = await factory._insert(
        T_ACTIVITY,
        "Activity",
        {
            "organization_id": tenant.org.pk,
            "contact_id": tenant.contact_a.pk,
            "invoice_id": draft.pk,
            "kind": "created",
            "client_visible": True,
        },
    )
    person = await sessions.portal(tenant.person_a)
    assert await _node(gql, person, entry.gid) is None  # (its invoice is a draft: not the client's to see)
    assert await _node(gql, await sessions.staff(tenant.owner), entry.gid) is not None
