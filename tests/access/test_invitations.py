"""invitePortalUsers and acceptInvite, following the link in a real email."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from core.database import Database
from core.scope import T_ACTIVITY, T_CONTACT_PERSON, T_ORGANIZATION
from core.settings import Settings
from services.access.throttle import ADDRESS_FREE_ATTEMPTS
from services.access.tokens import T_TOKEN, issue_token
from tests.client import GraphQLClient
from tests.factories import PASSWORD, Factory
from tests.security.throttling import expire_locks
from tests.smtp import Inbox, SmtpServer

INVITE = """mutation($ids: [ID!]!) { invitePortalUsers(contactPersonIds: $ids) {
  __typename ... on InvitePortalUsersPayload { contactPersons { id portalStatus } }
  ... on InvitePortalUsersError { code field } } }"""
ACCEPT = """mutation($input: AcceptInviteInput!) { acceptInvite(input: $input) {
  __typename ... on Session { token viewer { ... on ContactPerson { email portalStatus } } }
  ... on AcceptInviteError { code field retryAfterSeconds } } }"""
NEW_PASSWORD = "a-brand-new-password"


def invite_token(message: object) -> str:
    match = re.search(r"/invite/([A-Za-z0-9_-]+)", Inbox.text(message))  # type: ignore[arg-type]
    assert match, "no invitation link in the mail"
    return match.group(1)


async def test_invitation_mail_link_sets_password_and_signs_in(
    gql: GraphQLClient, factory: Factory, db: Database, settings: Settings, smtp: SmtpServer
) -> None:
    tenant = await factory.tenant()
    contact = await factory.contact(tenant.org, display_name="Initech")
    person = await factory.person(contact, active=False, email="peter@initech.test", first_name="Peter")
    staff = await gql.login(tenant.owner.email, PASSWORD)
    data = await gql(INVITE, {"ids": [person.gid]}, as_=staff)
    assert data["invitePortalUsers"] == {
        "__typename": "InvitePortalUsersPayload",
        "contactPersons": [{"id": person.gid, "portalStatus": "INVITED"}],
    }
    assert await smtp.deliver(db, settings) == 1
    [message] = smtp.inbox.to("peter@initech.test")
    assert tenant.org.name in message["Subject"]
    assert f"{settings.public_portal_url}/invite/" in Inbox.text(message)
    assert "Set your password" in Inbox.html(message)
    token = invite_token(message)
    async with db.session() as session:
        stored = (await session.execute(select(T_TOKEN.c.token_hash, T_TOKEN.c.expires_at))).one()
    assert token.encode() not in stored.token_hash
    assert timedelta(days=6, hours=23) < stored.expires_at - datetime.now(UTC) <= timedelta(days=7)

    accepted = await gql(ACCEPT, {"input": {"token": token, "password": NEW_PASSWORD}})
    assert accepted["acceptInvite"]["viewer"] == {"email": "peter@initech.test", "portalStatus": "ACTIVE"}
    portal_token = await gql.login("peter@initech.test", NEW_PASSWORD, portal=tenant.org.portal_slug)
    mine = await gql("{ contacts { edges { node { id } } } }", as_=portal_token)
    assert [e["node"]["id"] for e in mine["contacts"]["edges"]] == [contact.gid]
    again = await gql(ACCEPT, {"input": {"token": token, "password": NEW_PASSWORD}})
    assert again["acceptInvite"]["code"] == "TOKEN_USED"
    async with db.session() as session:
        kinds = (
            (
                await session.execute(
                    select(T_ACTIVITY.c.kind).where(T_ACTIVITY.c.contact_id == contact.pk).order_by(T_ACTIVITY.c.id)
                )
            )
            .scalars()
            .all()
        )
    assert kinds == ["portal_invited", "portal_invitation_accepted"]


async def test_resending_voids_the_older_link(
    gql: GraphQLClient, factory: Factory, db: Database, settings: Settings, smtp: SmtpServer
) -> None:
    tenant = await factory.tenant()
    person = await factory.person(tenant.contact_a, active=False)
    staff = await gql.login(tenant.owner.email, PASSWORD)
    await gql(INVITE, {"ids": [person.gid]}, as_=staff)
    await gql(INVITE, {"ids": [person.gid]}, as_=staff)
    await smtp.deliver(db, settings)
    first, second = smtp.inbox.to(person.email)
    old = await gql(ACCEPT, {"input": {"token": invite_token(first), "password": NEW_PASSWORD}})
    assert old["acceptInvite"]["code"] == "TOKEN_SUPERSEDED"
    new = await gql(ACCEPT, {"input": {"token": invite_token(second), "password": NEW_PASSWORD}})
    assert new["acceptInvite"]["__typename"] == "Session"
    async with db.session() as session:
        kinds = (
            (
                await session.execute(
                    select(T_ACTIVITY.c.kind)
                    .where(T_ACTIVITY.c.contact_id == tenant.contact_a.pk)
                    .order_by(T_ACTIVITY.c.id)
                )
            )
            .scalars()
            .all()
        )
    assert kinds == ["portal_invited", "portal_invitation_resent", "portal_invitation_accepted"]


async def test_accept_invite_error_codes(
    gql: GraphQLClient, factory: Factory, db: Database, settings: Settings, smtp: SmtpServer
) -> None:
    tenant = await factory.tenant()
    person = await factory.person(tenant.contact_a, active=False, email="jane.doe@example.test")
    staff = await gql.login(tenant.owner.email, PASSWORD)
    await gql(INVITE, {"ids": [person.gid]}, as_=staff)
    await smtp.deliver(db, settings)
    token = invite_token(smtp.inbox.to(person.email)[0])
    cases = [
        ("no-such-token", NEW_PASSWORD, "UNKNOWN_TOKEN"),
        (token, "short", "PASSWORD_TOO_SHORT"),
        (token, "x" * 129, "PASSWORD_TOO_LONG"),
        (token, "Jane.Doe@Example.test", "PASSWORD_MATCHES_EMAIL"),
    ]
    for candidate, password, code in cases:
        answer = (await gql(ACCEPT, {"input": {"token": candidate, "password": password}}))["acceptInvite"]
        assert answer["code"] == code, (candidate, password, answer)
    async with db.transaction() as session:
        await session.execute(update(T_TOKEN).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    expired = await gql(ACCEPT, {"input": {"token": token, "password": NEW_PASSWORD}})
    assert expired["acceptInvite"]["code"] == "TOKEN_EXPIRED"
    async with db.session() as session:
        status = await session.scalar(
            select(T_CONTACT_PERSON.c.portal_status).where(T_CONTACT_PERSON.c.id == person.pk)
        )
    assert status == "INVITED"


async def test_invite_error_codes_send_nothing(
    gql: GraphQLClient, factory: Factory, db: Database, settings: Settings, smtp: SmtpServer
) -> None:
    tenant = await factory.tenant()
    no_email = await factory.person(tenant.contact_a, active=False, email=None)
    fresh = await factory.person(tenant.contact_a, active=False)
    lonely = await factory.contact(tenant.org)
    other = await factory.tenant()
    staff = await gql.login(tenant.owner.email, PASSWORD)
    cases = [
        ([fresh.gid, no_email.gid], "NO_EMAIL", "contactPersonIds[1]"),
        ([tenant.person_a.gid], "ALREADY_ACTIVE", "contactPersonIds[0]"),
        ([lonely.gid], "NO_CONTACT_PERSON", "contactPersonIds[0]"),
        ([fresh.gid, other.person_a.gid], "NOT_FOUND", "contactPersonIds[1]"),
        (["garbage"], "NOT_FOUND", "contactPersonIds[0]"),
        ([], "INVALID_INPUT", "contactPersonIds"),
    ]
    for ids, code, field in cases:
        answer = (await gql(INVITE, {"ids": ids}, as_=staff))["invitePortalUsers"]
        assert (answer["code"], answer["field"]) == (code, field), answer
    async with db.transaction() as session:
        await session.execute(
            update(T_ORGANIZATION).where(T_ORGANIZATION.c.id == tenant.org.pk).values(portal_enabled=False)
        )
    disabled = (await gql(INVITE, {"ids": [fresh.gid]}, as_=staff))["invitePortalUsers"]
    assert disabled["code"] == "PORTAL_DISABLED"
    assert await smtp.deliver(db, settings) == 0


async def test_a_contact_id_invites_its_primary_person(
    gql: GraphQLClient, factory: Factory, db: Database, settings: Settings, smtp: SmtpServer
) -> None:
    tenant = await factory.tenant()
    contact = await factory.contact(tenant.org)
    await factory.person(contact, active=False)
    primary = await factory.person(contact, active=False, is_primary=True)
    staff = await gql.login(tenant.owner.email, PASSWORD)
    answer = (await gql(INVITE, {"ids": [contact.gid]}, as_=staff))["invitePortalUsers"]
    assert answer["contactPersons"] == [{"id": primary.gid, "portalStatus": "INVITED"}]


async def test_portal_users_cannot_invite(gql: GraphQLClient, factory: Factory) -> None:
    tenant = await factory.tenant()
    fresh = await factory.person(tenant.contact_a, active=False)
    portal = await gql.login(tenant.person_a.email, PASSWORD, portal=tenant.org.portal_slug)
    assert (await gql.raw(INVITE, {"ids": [fresh.gid]}, as_=portal)).error_codes == ["FORBIDDEN"]


async def test_wrong_invite_tokens_are_throttled_per_address(
    gql: GraphQLClient, factory: Factory, db: Database
) -> None:
    tenant = await factory.tenant()
    person = await factory.person(tenant.contact_a, active=False)
    async with db.transaction() as session:
        token = await issue_token(
            session, kind="INVITE", organization_id=tenant.org.pk, ttl=timedelta(days=1), contact_person_id=person.pk
        )
    for n in range(ADDRESS_FREE_ATTEMPTS):
        guess = await gql(ACCEPT, {"input": {"token": f"guess-{n}", "password": NEW_PASSWORD}})
        assert guess["acceptInvite"]["code"] == "UNKNOWN_TOKEN"
    refused = (await gql(ACCEPT, {"input": {"token": token, "password": NEW_PASSWORD}}))["acceptInvite"]
    assert refused["code"] == "TOO_MANY_ATTEMPTS" and refused["retryAfterSeconds"] >= 1
    await expire_locks(db)
    accepted = await gql(ACCEPT, {"input": {"token": token, "password": NEW_PASSWORD}})
    assert accepted["acceptInvite"]["__typename"] == "Session"
