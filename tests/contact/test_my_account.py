"""updateMyAccount and updateMyCompany: what a portal user may change about themselves and their company."""

from __future__ import annotations

from sqlalchemy import func, select

from core.database import Database
from core.scope import T_ACTIVITY, T_CONTACT, T_CONTACT_PERSON
from tests.client import GraphQLClient
from tests.factories import PASSWORD, Factory, Tenant

MY_ACCOUNT = """mutation($input: UpdateMyAccountInput!) { updateMyAccount(input: $input) {
  __typename ... on ContactPerson { firstName lastName email phone mobile isPrimary }
  ... on UpdateMyAccountError { code field } } }"""
MY_COMPANY = """mutation($input: UpdateMyCompanyInput!) { updateMyCompany(input: $input) {
  __typename ... on Contact { displayName companyName phone currency billingAddress { street1 } }
  ... on UpdateMyCompanyError { code field } } }"""


async def portal_token(gql: GraphQLClient, tenant: Tenant) -> str:
    return await gql.login(tenant.person_a.email, PASSWORD, portal=tenant.org.portal_slug)


async def activity_count(db: Database, contact_pk: int) -> int:
    async with db.session() as session:
        return int(await session.scalar(select(func.count()).where(T_ACTIVITY.c.contact_id == contact_pk)) or 0)


async def test_my_account_changes_only_my_names_and_phones(gql: GraphQLClient, factory: Factory, db: Database) -> None:
    # given a portal person and a colleague at the same contact
    tenant = await factory.tenant()
    colleague = await factory.person(tenant.contact_a)
    token = await portal_token(gql, tenant)
    # when they change their last name and mobile
    data = await gql(MY_ACCOUNT, {"input": {"lastName": " Archer ", "mobile": "+1 555 0199"}}, as_=token)
    # then their own row changes, trimmed, and their email (how they sign in) stays
    assert data["updateMyAccount"] == {
        "__typename": "ContactPerson",
        "firstName": tenant.person_a.first_name,
        "lastName": "Archer",
        "email": tenant.person_a.email,
        "phone": None,
        "mobile": "+1 555 0199",
        "isPrimary": False,  # the factory's default, untouched
    }
    async with db.session() as session:
        other = (await session.execute(select(T_CONTACT_PERSON).where(T_CONTACT_PERSON.c.id == colleague.pk))).one()
    assert (other.last_name, other.mobile) == (colleague.last_name, None)


async def test_my_account_refuses_a_too_long_phone(gql: GraphQLClient, factory: Factory) -> None:
    # given a portal person / when the phone is longer than 50 characters
    tenant = await factory.tenant()
    data = await gql(MY_ACCOUNT, {"input": {"phone": "1" * 51}}, as_=await portal_token(gql, tenant))
    # then INVALID_INPUT names the field
    assert data["updateMyAccount"] == {"__typename": "UpdateMyAccountError", "code": "INVALID_INPUT", "field": "phone"}


async def test_an_empty_update_writes_no_history(gql: GraphQLClient, factory: Factory, db: Database) -> None:
    # given a portal person
    tenant = await factory.tenant()
    token = await portal_token(gql, tenant)
    before = await activity_count(db, tenant.contact_a.pk)
    # when both mutations are sent without a field
    account = await gql(MY_ACCOUNT, {"input": {}}, as_=token)
    company = await gql(MY_COMPANY, {"input": {}}, as_=token)
    # then the current details come back and the history has no new entry
    assert account["updateMyAccount"]["__typename"] == "ContactPerson"
    assert company["updateMyCompany"]["__typename"] == "Contact"
    assert await activity_count(db, tenant.contact_a.pk) == before


async def test_my_company_checks_each_address_part(gql: GraphQLClient, factory: Factory, db: Database) -> None:
    # given a portal person
    tenant = await factory.tenant()
    token = await portal_token(gql, tenant)
    # when a billing address part is longer than 200 characters, or the display name is blank
    long_street = await gql(MY_COMPANY, {"input": {"billingAddress": {"street1": "x" * 201}}}, as_=token)
    blank_name = await gql(MY_COMPANY, {"input": {"displayName": "  "}}, as_=token)
    # then INVALID_INPUT names the part at fault, and nothing changed
    assert long_street["updateMyCompany"]["code"] == "INVALID_INPUT"
    assert long_street["updateMyCompany"]["field"] == "billingAddress.street1"
    assert blank_name["updateMyCompany"]["field"] == "displayName"
    async with db.session() as session:
        row = (await session.execute(select(T_CONTACT).where(T_CONTACT.c.id == tenant.contact_a.pk))).one()
    assert row.display_name == tenant.contact_a.display_name and not row.billing_address


async def test_my_company_changes_my_contact_only(gql: GraphQLClient, factory: Factory, db: Database) -> None:
    # given two organizations, each with contacts
    tenant = await factory.tenant()
    other = await factory.tenant()
    # when a portal person renames their company
    data = await gql(
        MY_COMPANY, {"input": {"displayName": "Acme", "phone": "+1 555 0100"}}, as_=await portal_token(gql, tenant)
    )
    # then their contact changes (its currency stays), and no other contact of either organization does
    assert data["updateMyCompany"] == {
        "__typename": "Contact",
        "displayName": "Acme",
        "companyName": None,
        "phone": "+1 555 0100",
        "currency": tenant.contact_a.currency,
        "billingAddress": {"street1": None},
    }
    async with db.session() as session:
        names = dict(
            (
                await session.execute(
                    select(T_CONTACT.c.id, T_CONTACT.c.display_name).where(
                        T_CONTACT.c.id.in_([tenant.contact_b.pk, other.contact_a.pk, other.contact_b.pk])
                    )
                )
            ).all()
        )
    assert names == {
        tenant.contact_b.pk: tenant.contact_b.display_name,
        other.contact_a.pk: other.contact_a.display_name,
        other.contact_b.pk: other.contact_b.display_name,
    }
