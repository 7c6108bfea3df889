"""Signing in: identical failures, throttling, sessions, cookies with CSRF, password rehash."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from argon2 import PasswordHasher, Type
from sqlalchemy import select, update

from core.database import Database
from core.scope import T_CONTACT_PERSON, T_ORGANIZATION, T_STAFF_USER
from models import AuthSession
from tests.client import GraphQLClient
from tests.factories import PASSWORD, Factory
from tests.security.throttling import T_THROTTLE, expire_locks

LOGIN = """mutation($input: LoginInput!) { login(input: $input) {
  __typename ... on Session { token expiresAt viewer { __typename } }
  ... on LoginError { code field retryAfterSeconds } } }"""
ME = "{ me { __typename ... on StaffUser { email } ... on ContactPerson { personEmail: email } } }"
T_SESSION = AuthSession.__table__
BROWSER = {"origin": "http://portico.test"}  # the in-process client's own origin


async def attempt(gql: GraphQLClient, email: str, password: str, portal: str | None = None) -> dict:
    data = await gql(LOGIN, {"input": {"email": email, "password": password, "portal": portal}})
    return data["login"]


async def test_unknown_email_wrong_password_and_disabled_access_answer_identically(
    gql: GraphQLClient, factory: Factory, db: Database
) -> None:
    tenant = await factory.tenant()
    not_invited = await factory.person(tenant.contact_a, active=False)
    async with db.transaction() as session:
        await session.execute(
            update(T_CONTACT_PERSON).where(T_CONTACT_PERSON.c.id == tenant.person_b.pk).values(portal_status="DISABLED")
        )
    slug = tenant.org.portal_slug
    answers = [
        await attempt(gql, "nobody@example.test", PASSWORD),
        await attempt(gql, tenant.owner.email, "wrong password"),
        await attempt(gql, tenant.person_a.email, "wrong password", slug),
        await attempt(gql, tenant.person_b.email, PASSWORD, slug),  # disabled
        await attempt(gql, not_invited.email, PASSWORD, slug),  # never invited
        await attempt(gql, tenant.person_a.email, PASSWORD, "no-such-portal"),
        await attempt(gql, tenant.person_a.email, PASSWORD),  # a portal user is not staff
    ]
    assert all(
        a == {"__typename": "LoginError", "code": "INVALID_CREDENTIALS", "field": None, "retryAfterSeconds": None}
        for a in answers
    ), answers


async def test_portal_login_needs_the_portal_to_be_enabled(gql: GraphQLClient, factory: Factory, db: Database) -> None:
    tenant = await factory.tenant()
    async with db.transaction() as session:
        await session.execute(
            update(T_ORGANIZATION).where(T_ORGANIZATION.c.id == tenant.org.pk).values(portal_enabled=False)
        )
    answer = await attempt(gql, tenant.person_a.email, PASSWORD, tenant.org.portal_slug)
    assert answer["code"] == "INVALID_CREDENTIALS"


async def test_one_email_can_be_a_client_of_two_organizations(gql: GraphQLClient, factory: Factory) -> None:
    first, second = await factory.tenant(), await factory.tenant()
    shared = "shared@example.test"
    await factory.person(first.contact_a, email=shared)
    await factory.person(second.contact_a, email=shared)
    for tenant in (first, second):
        token = await gql.login(shared, PASSWORD, portal=tenant.org.portal_slug)
        data = await gql("{ contacts { edges { node { id } } } }", as_=token)
        assert [e["node"]["id"] for e in data["contacts"]["edges"]] == [tenant.contact_a.gid]


async def test_repeated_failures_are_throttled_with_growing_delays(gql: GraphQLClient, factory: Factory) -> None:
    tenant = await factory.tenant()
    for _ in range(5):  # five free attempts; the fifth failure locks the account at once
        assert (await attempt(gql, tenant.owner.email, "wrong"))["code"] == "INVALID_CREDENTIALS"
    locked = await attempt(gql, tenant.owner.email, PASSWORD)
    assert locked["code"] == "TOO_MANY_ATTEMPTS"
    assert locked["retryAfterSeconds"] >= 1
    # other accounts are not affected
    assert (await attempt(gql, tenant.person_a.email, PASSWORD, tenant.org.portal_slug))["__typename"] == "Session"


async def test_lock_grows_with_each_failure(gql: GraphQLClient, factory: Factory, db: Database) -> None:
    tenant = await factory.tenant()
    key = f"account:-staff-:{tenant.owner.email}"
    delays = []
    for _ in range(9):
        await expire_locks(db)  # so that the next attempt is admitted and checked
        await attempt(gql, tenant.owner.email, "wrong")
        async with db.session() as session:
            row = (await session.execute(select(T_THROTTLE).where(T_THROTTLE.c.key == key))).one()
        delays.append(
            None if row.locked_until is None else round((row.locked_until - row.last_failure_at).total_seconds())
        )
    assert delays == [None, None, None, None, 1, 2, 4, 8, 16]


async def test_refused_attempts_count_nothing_and_the_right_password_works_once_the_lock_passed(
    gql: GraphQLClient, db: Database, factory: Factory
) -> None:
    tenant = await factory.tenant()
    for _ in range(5):
        await attempt(gql, tenant.owner.email, "wrong")
    for _ in range(3):
        assert (await attempt(gql, tenant.owner.email, "wrong"))["code"] == "TOO_MANY_ATTEMPTS"
    async with db.session() as session:
        counts = dict((await session.execute(select(T_THROTTLE.c.key, T_THROTTLE.c.failures))).all())
    assert counts == {f"account:-staff-:{tenant.owner.email}": 5, "address:127.0.0.1": 5}
    await expire_locks(db)
    assert (await attempt(gql, tenant.owner.email, PASSWORD))["__typename"] == "Session"
    # the success cleared the account and gave its attempt back to the address
    async with db.session() as session:
        counts = dict((await session.execute(select(T_THROTTLE.c.key, T_THROTTLE.c.failures))).all())
    assert counts == {"address:127.0.0.1": 5}


async def test_successful_sign_ins_do_not_use_up_the_address(gql: GraphQLClient, factory: Factory) -> None:
    tenant = await factory.tenant()
    for _ in range(35):  # more than the address's 30 free attempts: an office behind one address signs in all day
        await gql.login(tenant.owner.email, PASSWORD)


async def test_logout_revokes_the_session(gql: GraphQLClient, factory: Factory) -> None:
    tenant = await factory.tenant()
    token = await gql.login(tenant.owner.email, PASSWORD)
    assert (await gql("mutation { logout }", as_=token)) == {"logout": True}
    result = await gql.raw(ME, as_=token)
    assert result.error_codes == ["UNAUTHENTICATED"], result.body


async def test_no_token_means_nobody_and_a_bad_token_is_unauthenticated(gql: GraphQLClient, factory: Factory) -> None:
    assert (await gql(ME)) == {"me": None}
    anonymous = await gql.raw("{ invoices { totalCount } }")
    assert anonymous.error_codes == ["UNAUTHENTICATED"]
    assert anonymous.data is None
    bad = await gql.raw(ME, as_="not-a-real-token")
    assert bad.error_codes == ["UNAUTHENTICATED"]


@pytest.mark.parametrize("expiry", ["absolute", "idle"])
async def test_expired_sessions_are_refused(gql: GraphQLClient, factory: Factory, db: Database, expiry: str) -> None:
    tenant = await factory.tenant()
    token = await gql.login(tenant.owner.email, PASSWORD)
    past = datetime.now(UTC) - timedelta(days=365)
    column = "expires_at" if expiry == "absolute" else "last_seen_at"
    async with db.transaction() as session:
        await session.execute(update(T_SESSION).values({column: past}))
    assert (await gql.raw(ME, as_=token)).error_codes == ["UNAUTHENTICATED"]


async def test_deactivated_staff_loses_access_at_once(gql: GraphQLClient, factory: Factory, db: Database) -> None:
    tenant = await factory.tenant()
    token = await gql.login(tenant.owner.email, PASSWORD)
    async with db.transaction() as session:
        await session.execute(update(T_STAFF_USER).where(T_STAFF_USER.c.id == tenant.owner.pk).values(is_active=False))
    assert (await gql.raw(ME, as_=token)).error_codes == ["UNAUTHENTICATED"]


async def test_session_token_is_stored_hashed(gql: GraphQLClient, factory: Factory, db: Database) -> None:
    tenant = await factory.tenant()
    token = await gql.login(tenant.owner.email, PASSWORD)
    async with db.session() as session:
        stored = (await session.execute(select(T_SESSION.c.token_hash))).scalars().all()
    assert len(stored) == 1 and token.encode() not in stored[0] and len(stored[0]) == 32


async def test_cookie_sessions_need_the_csrf_header_for_posts(http, factory: Factory) -> None:  # type: ignore[no-untyped-def]
    tenant = await factory.tenant()
    response = await http.post(  # (a browser's request: it carries Origin, and gets the COOKIE transport)
        "/graphql",
        json={"query": LOGIN, "variables": {"input": {"email": tenant.owner.email, "password": PASSWORD}}},
        headers=BROWSER,
    )
    session_cookie = response.cookies.get("portico_session")
    csrf_cookie = response.cookies.get("portico_csrf")
    assert session_cookie and csrf_cookie
    set_cookie = " ".join(response.headers.get_list("set-cookie")).lower()
    assert "httponly" in set_cookie and "samesite=lax" in set_cookie
    # the client's jar now holds both cookies, as a browser would send them on a cross-site POST
    forged = await http.post("/graphql", json={"query": ME})
    assert forged.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    wrong = await http.post("/graphql", json={"query": ME}, headers={"x-csrf-token": "guess"})
    assert wrong.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    ok = await http.post("/graphql", json={"query": ME}, headers={"x-csrf-token": csrf_cookie})
    assert ok.json()["data"]["me"]["email"] == tenant.owner.email
    read = await http.get("/graphql", params={"query": ME}, headers={"accept": "application/json"})
    assert read.json()["data"]["me"]["email"] == tenant.owner.email


async def test_password_hash_is_upgraded_when_parameters_change(
    gql: GraphQLClient, factory: Factory, db: Database
) -> None:
    tenant = await factory.tenant()
    weak = PasswordHasher(memory_cost=8 * 1024, time_cost=1, parallelism=1, type=Type.ID).hash(PASSWORD)
    async with db.transaction() as session:
        await session.execute(
            update(T_STAFF_USER).where(T_STAFF_USER.c.id == tenant.owner.pk).values(password_hash=weak)
        )
    await gql.login(tenant.owner.email, PASSWORD)
    async with db.session() as session:
        stored = await session.scalar(select(T_STAFF_USER.c.password_hash).where(T_STAFF_USER.c.id == tenant.owner.pk))
    assert stored != weak and stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    await gql.login(tenant.owner.email, PASSWORD)  # still works with the new hash


async def test_a_csrf_token_works_only_with_the_session_it_was_issued_for(http, factory: Factory) -> None:  # type: ignore[no-untyped-def]
    tenant = await factory.tenant()
    jars = []
    for email, portal in ((tenant.owner.email, None), (tenant.person_a.email, tenant.org.portal_slug)):
        variables = {"input": {"email": email, "password": PASSWORD, "portal": portal}}
        response = await http.post("/graphql", json={"query": LOGIN, "variables": variables}, headers=BROWSER)
        jars.append((response.cookies["portico_session"], response.cookies["portico_csrf"]))
        http.cookies.clear()
    (staff_session, staff_csrf), (_, portal_csrf) = jars

    async def me_with(session: str, csrf_cookie: str, header: str) -> list[str]:
        http.cookies.clear()
        http.cookies.set("portico_session", session)
        http.cookies.set("portico_csrf", csrf_cookie)
        body = (await http.post("/graphql", json={"query": ME}, headers={"x-csrf-token": header})).json()
        return [e["extensions"]["code"] for e in body.get("errors") or []]

    assert await me_with(staff_session, staff_csrf, staff_csrf) == []
    # another session's token, and a cookie/header pair an attacker picked, are refused
    assert await me_with(staff_session, portal_csrf, portal_csrf) == ["FORBIDDEN"]
    assert await me_with(staff_session, "chosen-by-attacker", "chosen-by-attacker") == ["FORBIDDEN"]
