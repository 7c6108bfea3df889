"""changePassword, requestPasswordReset and resetPassword."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from core.database import Database
from resolvers.access.passwords import RESETS_PER_HOUR
from services.access.throttle import ADDRESS_FREE_ATTEMPTS
from services.access.tokens import T_TOKEN, issue_token
from tests.client import GraphQLClient
from tests.factories import PASSWORD, Factory
from tests.security.throttling import expire_locks
from tests.smtp import Inbox, SmtpServer

CHANGE = """mutation($input: ChangePasswordInput!) { changePassword(input: $input) {
  __typename ... on ChangePasswordError { code field retryAfterSeconds } } }"""
REQUEST = """mutation($input: RequestPasswordResetInput!) { requestPasswordReset(input: $input) { accepted } }"""
RESET = """mutation($input: ResetPasswordInput!) { resetPassword(input: $input) {
  __typename ... on Session { token } ... on ResetPasswordError { code field retryAfterSeconds } } }"""
ME = "{ me { __typename } }"
NEW = "another-long-password"


async def test_change_password_revokes_only_the_persons_other_sessions(gql: GraphQLClient, factory: Factory) -> None:
    tenant = await factory.tenant()
    slug = tenant.org.portal_slug
    current = await gql.login(tenant.person_a.email, PASSWORD, portal=slug)
    other_device = await gql.login(tenant.person_a.email, PASSWORD, portal=slug)
    colleague = await gql.login(tenant.person_b.email, PASSWORD, portal=slug)
    staff = await gql.login(tenant.owner.email, PASSWORD)
    changed = await gql(CHANGE, {"input": {"currentPassword": PASSWORD, "newPassword": NEW}}, as_=current)
    assert changed["changePassword"]["__typename"] == "ContactPerson"
    assert (await gql(ME, as_=current))["me"]["__typename"] == "ContactPerson"
    assert (await gql.raw(ME, as_=other_device)).error_codes == ["UNAUTHENTICATED"]
    assert (await gql(ME, as_=colleague))["me"]["__typename"] == "ContactPerson"
    assert (await gql(ME, as_=staff))["me"]["__typename"] == "StaffUser"
    await gql.login(tenant.person_a.email, NEW, portal=slug)


async def test_change_password_errors(gql: GraphQLClient, factory: Factory) -> None:
    tenant = await factory.tenant()
    token = await gql.login(tenant.owner.email, PASSWORD)
    cases = [
        ({"currentPassword": "wrong", "newPassword": NEW}, "WRONG_PASSWORD", "currentPassword"),
        ({"currentPassword": PASSWORD, "newPassword": PASSWORD}, "SAME_PASSWORD", "newPassword"),
        ({"currentPassword": PASSWORD, "newPassword": "short"}, "PASSWORD_TOO_SHORT", "newPassword"),
        ({"currentPassword": PASSWORD, "newPassword": tenant.owner.email}, "PASSWORD_MATCHES_EMAIL", "newPassword"),
    ]
    for values, code, field in cases:
        answer = (await gql(CHANGE, {"input": values}, as_=token))["changePassword"]
        assert (answer["code"], answer["field"]) == (code, field)
    await gql.login(tenant.owner.email, PASSWORD)
    assert (await gql.raw(CHANGE, {"input": {"currentPassword": PASSWORD, "newPassword": NEW}})).error_codes == [
        "UNAUTHENTICATED"
    ]


async def test_password_reset_by_mail_revokes_every_session(
    gql: GraphQLClient,
    factory: Factory,
    db,
    settings,
    smtp: SmtpServer,  # type: ignore[no-untyped-def]
) -> None:
    tenant = await factory.tenant()
    slug = tenant.org.portal_slug
    before = await gql.login(tenant.person_a.email, PASSWORD, portal=slug)
    for email in (tenant.person_a.email, "unknown@example.test"):
        assert (await gql(REQUEST, {"input": {"email": email, "portal": slug}})) == {
            "requestPasswordReset": {"accepted": True}
        }
    assert await smtp.deliver(db, settings) == 1
    [message] = smtp.inbox.to(tenant.person_a.email)
    token = re.search(r"/reset-password/([A-Za-z0-9_-]+)", Inbox.text(message)).group(1)  # type: ignore[union-attr]
    weak = (await gql(RESET, {"input": {"token": token, "password": "short"}}))["resetPassword"]
    assert weak["code"] == "PASSWORD_TOO_SHORT"
    done = (await gql(RESET, {"input": {"token": token, "password": NEW}}))["resetPassword"]
    assert done["__typename"] == "Session"
    assert (await gql.raw(ME, as_=before)).error_codes == ["UNAUTHENTICATED"]
    assert (await gql(ME, as_=done["token"]))["me"]["__typename"] == "ContactPerson"
    reused = (await gql(RESET, {"input": {"token": token, "password": NEW}}))["resetPassword"]
    assert reused["code"] == "TOKEN_USED"
    await gql.login(tenant.person_a.email, NEW, portal=slug)


async def test_reset_requests_are_capped_per_hour(
    gql: GraphQLClient,
    factory: Factory,
    db,
    settings,
    smtp: SmtpServer,  # type: ignore[no-untyped-def]
) -> None:
    tenant = await factory.tenant()
    for _ in range(5):
        await gql(REQUEST, {"input": {"email": tenant.owner.email}})
    assert await smtp.deliver(db, settings) == 3


async def test_change_password_is_throttled_like_sign_in(gql: GraphQLClient, factory: Factory, db: Database) -> None:
    tenant = await factory.tenant()
    slug = tenant.org.portal_slug
    token = await gql.login(tenant.person_a.email, PASSWORD, portal=slug)
    wrong = {"currentPassword": "wrong", "newPassword": NEW}
    for _ in range(5):
        assert (await gql(CHANGE, {"input": wrong}, as_=token))["changePassword"]["code"] == "WRONG_PASSWORD"
    right = {"currentPassword": PASSWORD, "newPassword": NEW}
    locked = (await gql(CHANGE, {"input": right}, as_=token))["changePassword"]
    assert locked["code"] == "TOO_MANY_ATTEMPTS" and locked["retryAfterSeconds"] >= 1
    # the lock is the person's: a colleague changes theirs
    colleague = await gql.login(tenant.person_b.email, PASSWORD, portal=slug)
    assert (await gql(CHANGE, {"input": right}, as_=colleague))["changePassword"]["__typename"] == "ContactPerson"
    await expire_locks(db)
    assert (await gql(CHANGE, {"input": right}, as_=token))["changePassword"]["__typename"] == "ContactPerson"


async def test_a_bad_new_password_costs_no_attempt(gql: GraphQLClient, factory: Factory) -> None:
    tenant = await factory.tenant()
    token = await gql.login(tenant.owner.email, PASSWORD)
    for _ in range(8):
        answer = await gql(CHANGE, {"input": {"currentPassword": "wrong", "newPassword": "short"}}, as_=token)
        assert answer["changePassword"]["code"] == "PASSWORD_TOO_SHORT"
    done = await gql(CHANGE, {"input": {"currentPassword": PASSWORD, "newPassword": NEW}}, as_=token)
    assert done["changePassword"]["__typename"] == "StaffUser"


async def test_wrong_reset_tokens_are_throttled_per_address(gql: GraphQLClient, factory: Factory, db: Database) -> None:
    tenant = await factory.tenant()
    async with db.transaction() as session:
        token = await issue_token(
            session, kind="RESET", organization_id=tenant.org.pk, ttl=timedelta(hours=1), staff_user_id=tenant.owner.pk
        )
    for n in range(ADDRESS_FREE_ATTEMPTS):
        guess = await gql(RESET, {"input": {"token": f"guess-{n}", "password": NEW}})
        assert guess["resetPassword"]["code"] == "UNKNOWN_TOKEN"
    refused = (await gql(RESET, {"input": {"token": token, "password": NEW}}))["resetPassword"]
    assert refused["code"] == "TOO_MANY_ATTEMPTS" and refused["retryAfterSeconds"] >= 1
    await expire_locks(db)
    assert (await gql(RESET, {"input": {"token": token, "password": NEW}}))["resetPassword"]["__typename"] == "Session"


@pytest.mark.parametrize("portal", [None, "", "no-such-portal"])
async def test_reset_request_for_an_empty_email_is_accepted(
    gql: GraphQLClient, factory: Factory, portal: str | None
) -> None:
    await factory.tenant()  # a staff user and portal persons exist; none has an empty email
    literal = "null" if portal is None else f'"{portal}"'
    result = await gql.raw(
        f'mutation {{ requestPasswordReset(input: {{ email: "", portal: {literal} }}) {{ accepted }} }}'
    )
    assert result.errors == [] and result.data == {"requestPasswordReset": {"accepted": True}}


async def test_parallel_reset_requests_still_send_at_most_three_links(
    gql: GraphQLClient, factory: Factory, db: Database
) -> None:
    tenant = await factory.tenant()
    requests = [gql(REQUEST, {"input": {"email": tenant.owner.email}}) for _ in range(10)]
    assert all(answer == {"requestPasswordReset": {"accepted": True}} for answer in await asyncio.gather(*requests))
    async with db.session() as session:
        links = await session.scalar(select(func.count()).select_from(T_TOKEN).where(T_TOKEN.c.kind == "RESET"))
    assert links == RESETS_PER_HOUR
