"""End-to-end basics: staff and portal login, me, and a scoped list."""

from __future__ import annotations

from tests.client import GraphQLClient
from tests.factories import PASSWORD, Factory


async def test_staff_login_and_me(gql: GraphQLClient, factory: Factory) -> None:
    tenant = await factory.tenant()
    token = await gql.login(tenant.owner.email, PASSWORD)
    data = await gql("{ me { __typename ... on StaffUser { email role organization { name } } } }", as_=token)
    assert data["me"] == {
        "__typename": "StaffUser",
        "email": tenant.owner.email,
        "role": "OWNER",
        "organization": {"name": tenant.org.name},
    }


async def test_portal_user_sees_only_own_contact_invoices(gql: GraphQLClient, factory: Factory) -> None:
    tenant = await factory.tenant()
    mine = await factory.invoice(tenant.contact_a)
    await factory.invoice(tenant.contact_a, status="DRAFT")
    await factory.invoice(tenant.contact_b)
    token = await gql.login(tenant.person_a.email, PASSWORD, portal=tenant.org.portal_slug)
    data = await gql("{ invoices { totalCount edges { node { id number total lineItems { amount } } } } }", as_=token)
    assert data["invoices"]["totalCount"] == 1
    assert [edge["node"]["id"] for edge in data["invoices"]["edges"]] == [mine.gid]
    assert data["invoices"]["edges"][0]["node"]["total"] == "100.00"


async def test_login_payload_can_read_the_new_viewers_relations(gql: GraphQLClient, factory: Factory) -> None:
    tenant = await factory.tenant()
    data = await gql(
        """mutation($input: LoginInput!) { login(input: $input) { ... on Session {
             viewer { ... on StaffUser { organization { name } } ... on ContactPerson { contact { id } } } } } }""",
        {"input": {"email": tenant.person_a.email, "password": PASSWORD, "portal": tenant.org.portal_slug}},
    )
    assert data["login"]["viewer"] == {"contact": {"id": tenant.contact_a.gid}}
    staff = await gql(
        """mutation($input: LoginInput!) { login(input: $input) { ... on Session {
             viewer { ... on StaffUser { organization { name } } } } } }""",
        {"input": {"email": tenant.owner.email, "password": PASSWORD}},
    )
    assert staff["login"]["viewer"] == {"organization": {"name": tenant.org.name}}
