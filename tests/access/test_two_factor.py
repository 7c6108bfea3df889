"""Two-factor sign-in: set-up, login with OTP_REQUIRED / OTP_INVALID, single-use codes, recovery codes, disabling,
and the throttle on every code and password check."""

from __future__ import annotations

import time

import pyotp

from core.database import Database
from tests.client import GraphQLClient
from tests.factories import PASSWORD, Factory
from tests.security.throttling import expire_locks

LOGIN = """mutation($i: LoginInput!) { login(input: $i) {
  __typename ... on Session { token } ... on LoginError { code field } } }"""
CONFIRM = """mutation($c: String!) { confirmTwoFactor(otp: $c) {
  __typename ... on TwoFactorEnabled { recoveryCodes } ... on TwoFactorError { code retryAfterSeconds } } }"""
DISABLE = """mutation($i: DisableTwoFactorInput!) { disableTwoFactor(input: $i) {
  __typename ... on TwoFactorError { code retryAfterSeconds } } }"""


def next_code(secret: str) -> str:
    """The code of the next 30-second step: accepted (one step of drift) after the current step's code was used."""
    return pyotp.TOTP(secret).at(time.time(), counter_offset=1)


async def enable(gql: GraphQLClient, token: str) -> tuple[str, list[str]]:
    setup = (await gql("mutation { enableTwoFactor { ... on TwoFactorSetup { secret otpauthUri } } }", as_=token))[
        "enableTwoFactor"
    ]
    assert setup["otpauthUri"].startswith("otpauth://totp/")
    wrong = await gql('mutation { confirmTwoFactor(otp: "000000") { ... on TwoFactorError { code } } }', as_=token)
    assert wrong["confirmTwoFactor"]["code"] == "OTP_INVALID"
    code = pyotp.TOTP(setup["secret"]).now()
    confirmed = await gql(CONFIRM, {"c": code}, as_=token)
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
    ok = await gql(LOGIN, {"i": {**base, "otp": next_code(secret)}})  # the current one confirmed the set-up
    assert ok["login"]["__typename"] == "Session"
    assert (await gql(LOGIN, {"i": {**base, "otp": recovery[0]}}))["login"]["__typename"] == "Session"
    assert (await gql(LOGIN, {"i": {**base, "otp": recovery[0]}}))["login"]["code"] == "OTP_INVALID"


async def test_disable_two_factor_needs_proof(gql: GraphQLClient, factory: Factory) -> None:
    tenant = await factory.tenant()
    token = await gql.login(tenant.owner.email, PASSWORD)
    secret, _ = await enable(gql, token)
    again = await gql("mutation { enableTwoFactor { ... on TwoFactorError { code } } }", as_=token)
    assert again["enableTwoFactor"]["code"] == "ALREADY_ENABLED"
    disable = DISABLE
    assert (await gql(disable, {"i": {}}, as_=token))["disableTwoFactor"]["code"] == "INVALID_INPUT"
    assert (await gql(disable, {"i": {"password": "wrong"}}, as_=token))["disableTwoFactor"]["code"] == "WRONG_PASSWORD"
    assert (await gql(disable, {"i": {"otp": next_code(secret)}}, as_=token))["disableTwoFactor"][
        "__typename"
    ] == "StaffUser"
    await gql.login(tenant.owner.email, PASSWORD)  # no code needed any more
    assert (await gql(disable, {"i": {"password": PASSWORD}}, as_=token))["disableTwoFactor"]["code"] == "NOT_ENABLED"


async def test_a_code_signs_in_once(gql: GraphQLClient, factory: Factory) -> None:
    tenant = await factory.tenant()
    token = await gql.login(tenant.owner.email, PASSWORD)
    setup = await gql("mutation { enableTwoFactor { ... on TwoFactorSetup { secret } } }", as_=token)
    secret = setup["enableTwoFactor"]["secret"]
    confirming = pyotp.TOTP(secret).now()
    assert (await gql(CONFIRM, {"c": confirming}, as_=token))["confirmTwoFactor"]["__typename"] == "TwoFactorEnabled"
    base = {"email": tenant.owner.email, "password": PASSWORD}
    # the code that confirmed the set-up is used up
    assert (await gql(LOGIN, {"i": {**base, "otp": confirming}}))["login"]["code"] == "OTP_INVALID"
    code = next_code(secret)
    assert (await gql(LOGIN, {"i": {**base, "otp": code}}))["login"]["__typename"] == "Session"
    assert (await gql(LOGIN, {"i": {**base, "otp": code}}))["login"]["code"] == "OTP_INVALID"


async def test_wrong_codes_in_login_are_throttled_even_with_the_right_password(
    gql: GraphQLClient, factory: Factory, db: Database
) -> None:
    tenant = await factory.tenant()
    token = await gql.login(tenant.owner.email, PASSWORD)
    secret, recovery = await enable(gql, token)
    base = {"email": tenant.owner.email, "password": PASSWORD}
    for _ in range(5):
        assert (await gql(LOGIN, {"i": {**base, "otp": "000000"}}))["login"]["code"] == "OTP_INVALID"
    for otp in (next_code(secret), recovery[0]):
        assert (await gql(LOGIN, {"i": {**base, "otp": otp}}))["login"]["code"] == "TOO_MANY_ATTEMPTS"
    await expire_locks(db)
    assert (await gql(LOGIN, {"i": {**base, "otp": recovery[0]}}))["login"]["__typename"] == "Session"


async def test_confirm_two_factor_is_throttled(gql: GraphQLClient, factory: Factory, db: Database) -> None:
    tenant = await factory.tenant()
    token = await gql.login(tenant.person_a.email, PASSWORD, portal=tenant.org.portal_slug)
    setup = await gql("mutation { enableTwoFactor { ... on TwoFactorSetup { secret } } }", as_=token)
    secret = setup["enableTwoFactor"]["secret"]
    for _ in range(5):
        assert (await gql(CONFIRM, {"c": "000000"}, as_=token))["confirmTwoFactor"]["code"] == "OTP_INVALID"
    locked = (await gql(CONFIRM, {"c": pyotp.TOTP(secret).now()}, as_=token))["confirmTwoFactor"]
    assert locked["code"] == "TOO_MANY_ATTEMPTS" and locked["retryAfterSeconds"] >= 1
    # the lock is the person's: a colleague is not affected
    colleague = await gql.login(tenant.person_b.email, PASSWORD, portal=tenant.org.portal_slug)
    await gql("mutation { enableTwoFactor { __typename } }", as_=colleague)
    assert (await gql(CONFIRM, {"c": "000000"}, as_=colleague))["confirmTwoFactor"]["code"] == "OTP_INVALID"
    await expire_locks(db)
    confirmed = (await gql(CONFIRM, {"c": pyotp.TOTP(secret).now()}, as_=token))["confirmTwoFactor"]
    assert confirmed["__typename"] == "TwoFactorEnabled"


async def test_disable_two_factor_is_throttled(gql: GraphQLClient, factory: Factory, db: Database) -> None:
    tenant = await factory.tenant()
    token = await gql.login(tenant.owner.email, PASSWORD)
    secret, recovery = await enable(gql, token)
    # wrong passwords, codes and recovery codes all count against the one person
    for proof in ({"password": "wrong"}, {"otp": "000000"}, {"otp": "0000-0000"}, {"password": "wrong"}):
        answer = (await gql(DISABLE, {"i": proof}, as_=token))["disableTwoFactor"]
        assert answer["code"] in ("WRONG_PASSWORD", "OTP_INVALID")
    assert (await gql(DISABLE, {"i": {"otp": "111111"}}, as_=token))["disableTwoFactor"]["code"] == "OTP_INVALID"
    for proof in ({"password": PASSWORD}, {"otp": next_code(secret)}, {"otp": recovery[0]}):
        locked = (await gql(DISABLE, {"i": proof}, as_=token))["disableTwoFactor"]
        assert locked["code"] == "TOO_MANY_ATTEMPTS" and locked["retryAfterSeconds"] >= 1
    await expire_locks(db)
    assert (await gql(DISABLE, {"i": {"otp": recovery[0]}}, as_=token))["disableTwoFactor"]["__typename"] == "StaffUser"


async def test_codes_in_other_digits_are_just_wrong(gql: GraphQLClient, factory: Factory) -> None:
    tenant = await factory.tenant()
    token = await gql.login(tenant.owner.email, PASSWORD)
    await enable(gql, token)
    base = {"email": tenant.owner.email, "password": PASSWORD}
    for otp in ("١٢٣٤٥٦", "１２３４５６", "12345", "1234567", "²³⁴⁵⁶⁷"):
        assert (await gql(LOGIN, {"i": {**base, "otp": otp}}))["login"]["code"] == "OTP_INVALID", otp
