"""changePassword, requestPasswordReset and resetPassword."""

from __future__ import annotations

import re

from tests.client import GraphQLClient
from tests.factories import PASSWORD, Factory
from tests.smtp import Inbox, SmtpServer

CHANGE = """mutation($input: ChangePasswordInput!) { changePassword(input: $input) {
  __typename ... on ChangePasswordError { code field } } }"""
REQUEST = """mutation($input: RequestPasswordResetInput!) { requestPasswordReset(input: $input) { accepted } }"""
RESET = """mutation($input: ResetPasswordInput!) { resetPassword(input: $input) {
  __typename ... on Session { token } ... on ResetPasswordError { code field } } }"""
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
