"""mySessions, revokeSession, disablePortalAccess, updateMyAccount and updateMyCompany."""

from __future__ import annotations

from sqlalchemy import select

from core.scope import T_ACTIVITY
from tests.client import GraphQLClient
from tests.factories import PASSWORD, Factory

SESSIONS = "{ mySessions { id current userAgent ipAddress } }"
REVOKE = """mutation($id: ID!) { revokeSession(id: $id) {
  __typename ... on ActiveSession { id current } ... on RevokeSessionError { code } } }"""
DISABLE = """mutation($id: ID!) { disablePortalAccess(contactPersonId: $id) {
  __typename ... on ContactPerson { portalStatus } ... on DisablePortalAccessError { code } } }"""


async def test_sessions_list_and_revoke_own_only(gql: GraphQLClient, factory: Factory) -> None:
    tenant = await factory.tenant()
    slug = tenant.org.portal_slug
    phone = await gql.login(tenant.person_a.email, PASSWORD, portal=slug)
    laptop = await gql.login(tenant.person_a.email, PASSWORD, portal=slug)
    colleague = await gql.login(tenant.person_b.email, PASSWORD, portal=slug)
    sessions = (await gql(SESSIONS, as_=laptop))["mySessions"]
    assert len(sessions) == 2 and [s["current"] for s in sessions].count(True) == 1
    phone_id = next(s["id"] for s in sessions if not s["current"])
    foreign_id = (await gql(SESSIONS, as_=colleague))["mySessions"][0]["id"]
    assert (await gql(REVOKE, {"id": foreign_id}, as_=laptop))["revokeSession"]["code"] == "NOT_FOUND"
    assert (await gql(REVOKE, {"id": phone_id}, as_=laptop))["revokeSession"] == {
        "__typename": "ActiveSession",
        "id": phone_id,
        "current": False,
    }
    assert (await gql.raw("{ me { __typename } }", as_=phone)).error_codes == ["UNAUTHENTICATED"]
    assert (await gql("{ me { __typename } }", as_=colleague))["me"]["__typename"] == "ContactPerson"


async def test_disable_portal_access_ends_sessions(gql: GraphQLClient, factory: Factory) -> None:
    tenant = await factory.tenant()
    other = await factory.tenant()
    portal = await gql.login(tenant.person_a.email, PASSWORD, portal=tenant.org.portal_slug)
    foreign_staff = await gql.login(other.owner.email, PASSWORD)
    assert (await gql(DISABLE, {"id": tenant.person_a.gid}, as_=foreign_staff))["disablePortalAccess"][
        "code"
    ] == "NOT_FOUND"
    assert (await gql("{ me { __typename } }", as_=portal))["me"]["__typename"] == "ContactPerson"
    staff = await gql.login(tenant.owner.email, PASSWORD)
    answer = await gql(DISABLE, {"id": tenant.person_a.gid}, as_=staff)
    assert answer["disablePortalAccess"] == {"__typename": "ContactPerson", "portalStatus": "DISABLED"}
    assert (await gql.raw("{ me { __typename } }", as_=portal)).error_codes == ["UNAUTHENTICATED"]
    login = await gql(
        """mutation($i: LoginInput!) { login(input: $i) { ... on LoginError { code } } }""",
        {"i": {"email": tenant.person_a.email, "password": PASSWORD, "portal": tenant.org.portal_slug}},
    )
    assert login["login"]["code"] == "INVALID_CREDENTIALS"


async def test_update_my_account_and_company(gql: GraphQLClient, factory: Factory, db) -> None:  # type: ignore[no-untyped-def]
    tenant = await factory.tenant()
    portal = await gql.login(tenant.person_a.email, PASSWORD, portal=tenant.org.portal_slug)
    account = await gql(
        """mutation { updateMyAccount(input: {firstName: "Ann", phone: "+1 555 0100"}) {
      __typename ... on ContactPerson { name phone } } }""",
        as_=portal,
    )
    assert account["updateMyAccount"] == {"__typename": "ContactPerson", "name": "Ann Tester", "phone": "+1 555 0100"}
    blank = await gql(
        """mutation { updateMyAccount(input: {firstName: "  "}) {
      ... on UpdateMyAccountError { code field } } }""",
        as_=portal,
    )
    assert blank["updateMyAccount"] == {"code": "INVALID_INPUT", "field": "firstName"}
    company = await gql(
        """mutation { updateMyCompany(input: {companyName: "Acme Ltd",
      billingAddress: {street1: "1 Main St", city: "Springfield"}}) {
      __typename ... on Contact { id companyName billingAddress { street1 city } } } }""",
        as_=portal,
    )
    assert company["updateMyCompany"] == {
        "__typename": "Contact",
        "id": tenant.contact_a.gid,
        "companyName": "Acme Ltd",
        "billingAddress": {"street1": "1 Main St", "city": "Springfield"},
    }
    staff = await gql.login(tenant.owner.email, PASSWORD)
    seen = await gql("query($id: ID!) { contact(id: $id) { companyName } }", {"id": tenant.contact_b.gid}, as_=staff)
    assert seen["contact"]["companyName"] is None  # the colleague's contact did not change
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
    assert kinds == ["my_account_updated", "my_company_updated"]
    refused = await gql.raw('mutation { updateMyAccount(input: {firstName: "X"}) { __typename } }', as_=staff)
    assert refused.error_codes == ["FORBIDDEN"]
