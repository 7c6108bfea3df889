"""Sign-in throttles under parallel bursts, replayed with real concurrent HTTP requests against a live server.

The server keeps its default pool (DB_POOL_SIZE=10, no overflow), at which a request holding two connections at
once stalls every request behind it (it did so at 10 + 5).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pyotp
import pytest

from core.settings import Settings
from tests.factories import PASSWORD, Factory, Row
from tests.live import running_server

pytestmark = pytest.mark.slow

LOGIN = """mutation($i: LoginInput!) { login(input: $i) {
  __typename ... on Session { token } ... on LoginError { code retryAfterSeconds } } }"""
REQUEST_RESET = """mutation($i: RequestPasswordResetInput!) { requestPasswordReset(input: $i) {
  __typename accepted } }"""


@pytest.fixture(scope="module")
def base_url(settings: Settings) -> Iterator[str]:
    # the first lock lasts a minute here, so that a burst slowed down by a busy machine (CI) cannot outlive it: what
    # is measured is the concurrency of the count, not the lock's length
    with running_server(settings, DB_POOL_SIZE="10", DB_MAX_OVERFLOW="0", THROTTLE_FIRST_LOCK_SECONDS="60") as url:
        yield url


class Answer:
    def __init__(self, status: int, body: dict[str, Any], seconds: float) -> None:
        self.status = status
        self.body = body
        self.seconds = seconds
        result = next(iter((body.get("data") or {}).values()), None) or {}
        self.outcome = result.get("__typename") if result.get("__typename") != "LoginError" else result.get("code")
        self.retry_after = result.get("retryAfterSeconds")
        self.error_codes = [(e.get("extensions") or {}).get("code") for e in body.get("errors") or []]


async def burst(base_url: str, inputs: list[dict[str, Any]], query: str = LOGIN) -> list[Answer]:
    """Send every request at once, each on its own connection; the answers in the order of ``inputs``."""
    limits = httpx.Limits(max_connections=len(inputs), max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=base_url, timeout=60, limits=limits) as client:

        async def one(variables: dict[str, Any]) -> Answer:
            started = time.monotonic()
            response = await client.post("/graphql", json={"query": query, "variables": {"i": variables}})
            return Answer(response.status_code, response.json(), time.monotonic() - started)

        return list(await asyncio.gather(*(one(v) for v in inputs)))


def portal_login(person: Row, slug: str, password: str = PASSWORD, otp: str | None = None) -> dict[str, Any]:
    return {"email": person.email, "password": password, "portal": slug, "otp": otp}


def wrong_code(secret: str) -> str:
    """A six-digit code that is none of the codes the server accepts around now."""
    totp = pyotp.TOTP(secret)
    accepted = {totp.at(time.time(), counter_offset=offset) for offset in range(-2, 3)}
    return next(code for code in (f"{n:06d}" for n in range(1000)) if code not in accepted)


async def two_factor_person(factory: Factory, contact: Row) -> tuple[Row, str]:
    secret = pyotp.random_base32()
    person = await factory.person(contact, totp_secret=secret, totp_enabled_at=datetime.now(UTC))
    return person, secret


def assert_refused(answers: list[Answer]) -> None:
    for answer in answers:
        assert answer.outcome == "TOO_MANY_ATTEMPTS", answer.body
        assert answer.retry_after is not None and answer.retry_after >= 1, answer.body


async def test_a_burst_of_logins_gets_exactly_the_free_attempts_checked(base_url: str, factory: Factory) -> None:
    # given 40 parallel sign-ins to one portal account with a wrong password
    tenant = await factory.tenant()
    slug = tenant.org.portal_slug
    inputs = [portal_login(tenant.person_a, slug, password="wrong password") for _ in range(40)]
    # when they arrive together
    answers = await burst(base_url, inputs)
    # then exactly 5 passwords were checked and every other request was refused with a time to wait
    outcomes = Counter(a.outcome for a in answers)
    assert outcomes["INVALID_CREDENTIALS"] == 5, outcomes
    assert_refused([a for a in answers if a.outcome != "INVALID_CREDENTIALS"])
    # and while the account is locked even the right password is not checked (a success would clear the count:
    # in the burst, a right password among the first five would have let five more through, by design)
    (right,) = await burst(base_url, [portal_login(tenant.person_a, slug)])
    assert_refused([right])


async def test_a_burst_of_wrong_codes_gets_exactly_the_free_attempts_checked(base_url: str, factory: Factory) -> None:
    # given a person with two-factor on, and 80 parallel sign-ins with the right password and a wrong code
    tenant = await factory.tenant()
    person, secret = await two_factor_person(factory, tenant.contact_a)
    inputs = [portal_login(person, tenant.org.portal_slug, otp=wrong_code(secret))] * 80
    # when they arrive together
    answers = await burst(base_url, inputs)
    # then 5 codes were checked (the password was right, so the attempt stays counted) and the rest refused
    outcomes = Counter(a.outcome for a in answers)
    assert outcomes["OTP_INVALID"] == 5, outcomes
    assert_refused([a for a in answers if a.outcome != "OTP_INVALID"])


async def test_wrong_codes_in_parallel_are_answered_in_good_time(base_url: str, factory: Factory) -> None:
    # given 45 parallel sign-ins to one account with the right password and a wrong code, and meanwhile 5 requests
    # that need a connection of their own (a stalled pool failed them too)
    tenant = await factory.tenant()
    person, secret = await two_factor_person(factory, tenant.contact_a)
    inputs = [portal_login(person, tenant.org.portal_slug, otp=wrong_code(secret))] * 45
    # when they arrive together
    logins, resets = await asyncio.gather(
        burst(base_url, inputs), burst(base_url, [{"email": "", "portal": None}] * 5, REQUEST_RESET)
    )
    # then every request had its typed answer, none waiting for a connection
    answers = logins + resets
    assert all(a.status == 200 and not a.error_codes for a in answers), [a.body for a in answers if a.error_codes]
    assert Counter(a.outcome for a in logins) == {"OTP_INVALID": 5, "TOO_MANY_ATTEMPTS": 40}
    assert all(a.body["data"]["requestPasswordReset"]["accepted"] for a in resets)
    assert max(a.seconds for a in answers) < 2, sorted(round(a.seconds, 2) for a in answers)


async def test_wrong_codes_for_many_accounts_in_parallel_get_typed_answers(base_url: str, factory: Factory) -> None:
    # given 45 parallel sign-ins with the right password and a wrong code, spread over 15 accounts: 30 of them (all
    # the address allows) are checked at once, twice as many as the pool has connections
    tenant = await factory.tenant()
    people = [await two_factor_person(factory, tenant.contact_a) for _ in range(15)]
    inputs = [portal_login(person, tenant.org.portal_slug, otp=wrong_code(secret)) for person, secret in people] * 3
    # when they arrive together
    answers = await burst(base_url, inputs)
    # then each got its typed answer (a stalled pool answers INTERNAL_SERVER_ERROR after its 30 s timeout)
    assert all(a.status == 200 and not a.error_codes for a in answers), [a.body for a in answers if a.error_codes]
    assert Counter(a.outcome for a in answers) == {"OTP_INVALID": 30, "TOO_MANY_ATTEMPTS": 15}


async def test_one_code_in_parallel_logins_gives_one_session(base_url: str, factory: Factory) -> None:
    # given a person with two-factor on and one valid code, sent in 10 parallel sign-ins
    tenant = await factory.tenant()
    person, secret = await two_factor_person(factory, tenant.contact_a)
    inputs = [portal_login(person, tenant.org.portal_slug, otp=pyotp.TOTP(secret).now())] * 10
    # when they arrive together
    answers = await burst(base_url, inputs)
    # then the code signed in once
    outcomes = Counter(a.outcome for a in answers)
    assert outcomes["Session"] == 1, outcomes
    assert set(outcomes) <= {"Session", "OTP_INVALID", "TOO_MANY_ATTEMPTS"}, outcomes


def post(client: httpx.Client, query: str, variables: dict[str, Any], token: str | None = None) -> Any:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    body = client.post("/graphql", json={"query": query, "variables": variables}, headers=headers).json()
    client.cookies.clear()  # bearer tokens only
    assert "errors" not in body, body
    return next(iter(body["data"].values()))


async def test_no_secret_check_holds_two_connections(settings: Settings, factory: Factory) -> None:
    # given a server with a pool of one connection, where a request that wants a second one while it holds the first
    # waits for itself until the pool times out
    tenant = await factory.tenant()
    slug = tenant.org.portal_slug
    person, secret = await two_factor_person(factory, tenant.contact_a)
    with (
        running_server(settings, DB_POOL_SIZE="1", DB_MAX_OVERFLOW="0") as url,
        httpx.Client(base_url=url, timeout=60) as client,
    ):
        # when each secret is checked, wrong and right, then each answers with its own code
        login = """mutation($i: LoginInput!) { login(input: $i) { __typename ... on Session { token }
          ... on LoginError { code } } }"""
        assert post(client, login, {"i": portal_login(person, slug, password="wrong")})["code"] == "INVALID_CREDENTIALS"
        assert post(client, login, {"i": portal_login(person, slug, otp=wrong_code(secret))})["code"] == "OTP_INVALID"
        signed_in = post(client, login, {"i": portal_login(person, slug, otp=pyotp.TOTP(secret).now())})
        assert signed_in["__typename"] == "Session"
        token = signed_in["token"]
        disable = """mutation($i: DisableTwoFactorInput!) { disableTwoFactor(input: $i) { __typename
          ... on TwoFactorError { code } } }"""
        assert post(client, disable, {"i": {"password": "wrong"}}, token)["code"] == "WRONG_PASSWORD"
        assert post(client, disable, {"i": {"otp": wrong_code(secret)}}, token)["code"] == "OTP_INVALID"
        assert post(client, disable, {"i": {"password": PASSWORD}}, token)["__typename"] == "ContactPerson"
        assert post(client, "mutation { enableTwoFactor { __typename } }", {}, token)["__typename"] == "TwoFactorSetup"
        confirm = "mutation($c: String!) { confirmTwoFactor(otp: $c) { ... on TwoFactorError { code } } }"
        assert post(client, confirm, {"c": "000000"}, token)["code"] == "OTP_INVALID"
        change = """mutation($i: ChangePasswordInput!) { changePassword(input: $i) { __typename
          ... on ChangePasswordError { code } } }"""
        new_password = "another-long-password"
        wrong = {"currentPassword": "wrong", "newPassword": new_password}
        assert post(client, change, {"i": wrong}, token)["code"] == "WRONG_PASSWORD"
        right = {"currentPassword": PASSWORD, "newPassword": new_password}
        assert post(client, change, {"i": right}, token)["__typename"] == "ContactPerson"
        for mutation in ("acceptInvite", "resetPassword"):
            document = f"""mutation($i: {mutation[0].upper()}{mutation[1:]}Input!) {{ {mutation}(input: $i) {{
              ... on {mutation[0].upper()}{mutation[1:]}Error {{ code }} }} }}"""
            answer = post(client, document, {"i": {"token": "not-a-token", "password": new_password}})
            assert answer["code"] == "UNKNOWN_TOKEN"
