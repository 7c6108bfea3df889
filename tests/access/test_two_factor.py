"""Two-factor sign-in: set-up, login with OTP_REQUIRED / OTP_INVALID, recovery codes, disabling."""

from __future__ import annotations

import pyotp

from tests.client import GraphQLClient
from tests.factories import PASSWORD, Factory

LOGIN = """mutation($i: LoginInput!) { login(input: $i) {
  __typename ... on Session { token } ... on LoginError { code field } } }"""


async def enable(gql: GraphQLClient, token: str) -> tuple[str, list[str]]:
    setup = (await gql("mutation { enableTwoFactor { ... on TwoFactorSetup { secret otpauthUri } } }", as_=token))[
        "enableTwoFactor"
    ]
    assert setup["otpauthUri"].startswith("otpauth://totp/")
    wrong = await gql('mutation { confirmTwoFactor(otp: "000000") { ... on TwoFactorError { code } } }', as_=token)
    assert wrong["confirmTwoFactor"]["code"] == "OTP_INVALID"
    code = pyotp.TOTP(setup["secret"]).now()
    confirmed = await gql(
        "mutation($c: String!) { confirmTwoFactor(otp: $c) { ... on TwoFactorEnabled { recoveryCodes } } }",
        {"c": code},
        as_=token,
    )
    return setup["secret"], confirmed["confirmTwoFactor"]["recoveryCodes"]


async def test_portal_login_with_two_factor(gql: GraphQLClient, factory: Factory) -> None:
    tenant = await factory.tenant()
    slug = tenant.org.portal_slug
    token = await gql.login(tenant.person_a.email, PASSWORD, portal=slug)
    secret, recovery = await enable(gql, token)
    assert len(recovery) == 10
    base = {"email": tenant.person_a.email, "password": PASSWORD, "portal": slug}
    assert (await gql(LOGIN, {"i": base}))["login"] == {
        "__typename": "LoginError",
        "code": "OTP_REQUIRED",
        "field": "otp",
    }
    assert (await gql(LOGIN, {"i": {**base, "otp": "123456"}}))["login"]["code"] == "OTP_INVALID"
    wrong_password = await gql(LOGIN, {"i": {**base, "password": "nope", "otp": pyotp.TOTP(secret).now()}})
    assert wrong_password["login"]["code"] == "INVALID_CREDENTIALS"
    ok = await gql(LOGIN, {"i": {**base, "otp": pyotp.TOTP(secret).now()}})
    assert ok["login"]["__typename"] == "Session"
    assert (await gql(LOGIN, {"i": {**base, "otp": recovery[0]}}))["login"]["__typename"] == "Session"
    assert (await gql(LOGIN, {"i": {**base, "otp": recovery[0]}}))["login"]["code"] == "OTP_INVALID"


async def test_disable_two_factor_needs_proof(gql: GraphQLClient, factory: Factory) -> None:
    tenant = await factory.tenant()
    token = await gql.login(tenant.owner.email, PASSWORD)
    secret, _ = await enable(gql, token)
    again = await gql("mutation { enableTwoFactor { ... on TwoFactorError { code } } }", as_=token)
    assert again["enableTwoFactor"]["code"] == "ALREADY_ENABLED"
    disable = """mutation($i: DisableTwoFactorInput!) { disableTwoFactor(input: $i) {
      __typename ... on TwoFactorError { code } } }"""
    assert (await gql(disable, {"i": {}}, as_=token))["disableTwoFactor"]["code"] == "INVALID_INPUT"
    assert (await gql(disable, {"i": {"password": "wrong"}}, as_=token))["disableTwoFactor"]["code"] == "WRONG_PASSWORD"
    assert (await gql(disable, {"i": {"otp": pyotp.TOTP(secret).now()}}, as_=token))["disableTwoFactor"][
        "__typename"
    ] == "StaffUser"
    await gql.login(tenant.owner.email, PASSWORD)  # no code needed any more
    assert (await gql(disable, {"i": {"password": PASSWORD}}, as_=token))["disableTwoFactor"]["code"] == "NOT_ENABLED"
