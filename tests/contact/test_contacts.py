"""Contacts and contact persons: staff mutations, queries, pagination and tenant isolation."""

from __future__ import annotations

from tests.client import GraphQLClient
from tests.factories import PASSWORD, Factory, Tenant

CREATE = """mutation($input: CreateContactInput!) { createContact(input: $input) {
  __typename ... on Contact { id displayName currency billingAddress { city } notes }
  ... on CreateContactError { code field } } }"""
UPDATE = """mutation($input: UpdateContactInput!) { updateContact(input: $input) {
  __typename ... on Contact { id displayName currency } ... on UpdateContactError { code field } } }"""
ADD_PERSON = """mutation($input: CreateContactPersonInput!) { createContactPerson(input: $input) {
  __typename ... on ContactPerson { id name email isPrimary portalStatus avatarUrl }
  ... on CreateContactPersonError { code field } } }"""
UPDATE_PERSON = """mutation($input: UpdateContactPersonInput!) { updateContactPerson(input: $input) {
  __typename ... on ContactPerson { id phone isPrimary } ... on UpdateContactPersonError { code field } } }"""


async def staff_token(gql: GraphQLClient, tenant: Tenant) -> str:
    return await gql.login(tenant.owner.email, PASSWORD)


async def test_create_contact_defaults_to_base_currency(gql: GraphQLClient, factory: Factory) -> None:
    tenant = await factory.tenant()
    token = await staff_token(gql, tenant)
    data = await gql(
        CREATE,
        {"input": {"displayName": " Initech ", "billingAddress": {"city": "Austin"}, "notes": "pays late"}},
        as_=token,
    )
    created = data["createContact"]
    assert created["__typename"] == "Contact"
    assert created["displayName"] == "Initech" and created["currency"] == "USD"
    assert created["billingAddress"] == {"city": "Austin"} and created["notes"] == "pays late"


async def test_create_contact_rejects_bad_input(gql: GraphQLClient, factory: Factory) -> None:
    tenant = await factory.tenant()
    token = await staff_token(gql, tenant)
    cases = [
        ({"displayName": "   "}, "INVALID_INPUT", "displayName"),
        ({"displayName": "X", "currency": "XYZ"}, "INVALID_CURRENCY", "currency"),
        ({"displayName": "X", "email": "not an email"}, "INVALID_INPUT", "email"),
        ({"displayName": "x" * 201}, "INVALID_INPUT", "displayName"),
    ]
    for values, code, field in cases:
        error = (await gql(CREATE, {"input": values}, as_=token))["createContact"]
        assert (error["__typename"], error["code"], error["field"]) == ("CreateContactError", code, field)
    assert (await gql("{ contacts { totalCount } }", as_=token))["contacts"]["totalCount"] == 2


async def test_currency_is_fixed_once_the_contact_has_documents(gql: GraphQLClient, factory: Factory) -> None:
    tenant = await factory.tenant()
    token = await staff_token(gql, tenant)
    await factory.invoice(tenant.contact_a)
    refused = await gql(UPDATE, {"input": {"id": tenant.contact_a.gid, "currency": "EUR"}}, as_=token)
    assert refused["updateContact"]["code"] == "CURRENCY_IN_USE"
    allowed = await gql(UPDATE, {"input": {"id": tenant.contact_b.gid, "currency": "eur"}}, as_=token)
    assert allowed["updateContact"]["currency"] == "EUR"


async def test_staff_cannot_touch_another_organizations_contacts(gql: GraphQLClient, factory: Factory) -> None:
    ours, theirs = await factory.tenant(), await factory.tenant()
    token = await staff_token(gql, theirs)
    assert (
        await gql(
            "query($id: ID!) { contact(id: $id) { id } node(id: $id) { id } }", {"id": ours.contact_a.gid}, as_=token
        )
    ) == {"contact": None, "node": None}
    update = await gql(UPDATE, {"input": {"id": ours.contact_a.gid, "displayName": "Hacked"}}, as_=token)
    assert update["updateContact"]["code"] == "NOT_FOUND"
    person = await gql(ADD_PERSON, {"input": {"contactId": ours.contact_a.gid, "firstName": "Eve"}}, as_=token)
    assert person["createContactPerson"]["code"] == "NOT_FOUND"
    edit = await gql(UPDATE_PERSON, {"input": {"id": ours.person_a.gid, "phone": "1"}}, as_=token)
    assert edit["updateContactPerson"]["code"] == "NOT_FOUND"
    listed = await gql("{ contacts { edges { node { id } } } }", as_=token)
    assert {e["node"]["id"] for e in listed["contacts"]["edges"]} == {theirs.contact_a.gid, theirs.contact_b.gid}
    owner_token = await staff_token(gql, ours)
    unchanged = await gql(
        "query($id: ID!) { contact(id: $id) { displayName persons { id } } }",
        {"id": ours.contact_a.gid},
        as_=owner_token,
    )
    assert unchanged["contact"]["displayName"] == ours.contact_a.display_name
    assert len(unchanged["contact"]["persons"]) == 1


async def test_contact_persons_primary_flag_and_unique_email(gql: GraphQLClient, factory: Factory) -> None:
    tenant = await factory.tenant()
    token = await staff_token(gql, tenant)
    new_contact = (await gql(CREATE, {"input": {"displayName": "Hooli"}}, as_=token))["createContact"]
    first = (
        await gql(
            ADD_PERSON,
            {"input": {"contactId": new_contact["id"], "firstName": "Gavin", "email": "Gavin@Hooli.test"}},
            as_=token,
        )
    )["createContactPerson"]
    assert first["__typename"] == "ContactPerson", first
    assert first["isPrimary"] is True and first["email"] == "gavin@hooli.test"
    assert first["portalStatus"] == "NOT_INVITED" and first["avatarUrl"].startswith("https://www.gravatar.com/avatar/")
    second = (
        await gql(
            ADD_PERSON, {"input": {"contactId": new_contact["id"], "firstName": "Jian", "isPrimary": True}}, as_=token
        )
    )["createContactPerson"]
    assert second["isPrimary"] is True
    persons = await gql(
        "query($id: ID!) { contact(id: $id) { persons { name isPrimary } } }", {"id": new_contact["id"]}, as_=token
    )
    assert persons["contact"]["persons"] == [{"name": "Jian", "isPrimary": True}, {"name": "Gavin", "isPrimary": False}]
    taken = await gql(
        ADD_PERSON,
        {"input": {"contactId": new_contact["id"], "firstName": "Dup", "email": tenant.person_a.email}},
        as_=token,
    )
    assert taken["createContactPerson"]["code"] == "EMAIL_TAKEN"
    bad = await gql(
        ADD_PERSON, {"input": {"contactId": new_contact["id"], "firstName": "X", "email": "nope"}}, as_=token
    )
    assert (bad["createContactPerson"]["code"], bad["createContactPerson"]["field"]) == ("INVALID_EMAIL", "email")


async def test_portal_user_sees_only_own_contact_without_internal_notes(gql: GraphQLClient, factory: Factory) -> None:
    tenant = await factory.tenant()
    token = await gql.login(tenant.person_a.email, PASSWORD, portal=tenant.org.portal_slug)
    data = await gql("{ contacts { totalCount edges { node { id notes } } } }", as_=token)
    assert data["contacts"]["totalCount"] == 1
    assert data["contacts"]["edges"][0]["node"] == {"id": tenant.contact_a.gid, "notes": None}
    other = await gql("query($id: ID!) { contact(id: $id) { id } }", {"id": tenant.contact_b.gid}, as_=token)
    assert other == {"contact": None}
    refused = await gql.raw(UPDATE, {"input": {"id": tenant.contact_a.gid, "displayName": "Mine"}}, as_=token)
    assert refused.error_codes == ["FORBIDDEN"]


async def test_contacts_are_keyset_paginated(gql: GraphQLClient, factory: Factory) -> None:
    tenant = await factory.tenant()
    names = ["Zed Delta", "zed alpha", "Zed Charlie", "zed bravo"]
    for name in names:
        await factory.contact(tenant.org, display_name=name)
    token = await staff_token(gql, tenant)
    seen: list[str] = []
    after = None
    query = """query($after: String) { contacts(first: 2, after: $after, filter: {search: "ZED"}) {
      totalCount pageInfo { hasNextPage endCursor } edges { node { displayName } } } }"""
    while True:
        page = (await gql(query, {"after": after}, as_=token))["contacts"]
        seen += [e["node"]["displayName"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert page["totalCount"] == 4
    assert sorted(seen) == sorted(names) and len(seen) == 4
    bad = await gql.raw('{ contacts(after: "garbage") { totalCount } }', as_=token)
    assert bad.error_codes == ["BAD_USER_INPUT"]
    too_many = await gql.raw("{ contacts(first: 1000) { totalCount } }", as_=token)
    assert too_many.error_codes == ["BAD_USER_INPUT"]


async def test_node_finds_every_node_type_in_scope(gql: GraphQLClient, factory: Factory) -> None:
    tenant = await factory.tenant()
    invoice = await factory.invoice(tenant.contact_a)
    project = await factory.project(tenant.contact_a)
    task = await factory.task(project, rate="95.5")
    entry = await factory.time_entry(task)
    comment = await factory.comment(invoice, person=tenant.person_a, body="hello")
    token = await staff_token(gql, tenant)
    query = "query($id: ID!) { node(id: $id) { __typename id ... on Task { rate } } }"
    for row, type_name in (
        (task, "Task"),
        (entry, "TimeEntry"),
        (comment, "Comment"),
        (invoice, "Invoice"),
        (tenant.person_a, "ContactPerson"),
        (tenant.owner, "StaffUser"),
    ):
        found = (await gql(query, {"id": row.gid}, as_=token))["node"]
        assert found["__typename"] == type_name and found["id"] == row.gid
    assert (await gql(query, {"id": task.gid}, as_=token))["node"]["rate"] == "95.50"
    other = await staff_token(gql, await factory.tenant())
    for row in (task, entry, comment):
        assert (await gql(query, {"id": row.gid}, as_=other))["node"] is None
