"""portalSettings and updatePortalSettings."""

from __future__ import annotations

from tests.client import GraphQLClient
from tests.factories import PASSWORD, Factory

SETTINGS = (
    "{ portalSettings { portalEnabled showProjectsAndTimesheets allowReviews paymentGateways notificationEmails } }"
)
UPDATE = """mutation($input: PortalSettingsInput!) { updatePortalSettings(input: $input) {
  __typename ... on PortalSettings { portalEnabled showProjectsAndTimesheets paymentGateways notificationEmails }
  ... on UpdatePortalSettingsError { code field } } }"""


async def test_owner_updates_only_the_given_fields_of_their_own_organization(
    gql: GraphQLClient, factory: Factory
) -> None:
    ours, theirs = await factory.tenant(), await factory.tenant()
    token = await gql.login(ours.owner.email, PASSWORD)
    data = await gql(
        UPDATE,
        {
            "input": {
                "showProjectsAndTimesheets": False,
                "paymentGateways": ["CARD"],
                "notificationEmails": ["Billing@Example.test"],
            }
        },
        as_=token,
    )
    assert data["updatePortalSettings"] == {
        "__typename": "PortalSettings",
        "portalEnabled": True,
        "showProjectsAndTimesheets": False,
        "paymentGateways": ["CARD"],
        "notificationEmails": ["billing@example.test"],
    }
    other = await gql(SETTINGS, as_=await gql.login(theirs.owner.email, PASSWORD))
    assert other["portalSettings"]["showProjectsAndTimesheets"] is True
    assert other["portalSettings"]["paymentGateways"] == ["CARD", "ACH"]


async def test_update_rejects_bad_emails_and_plain_staff(gql: GraphQLClient, factory: Factory) -> None:
    tenant = await factory.tenant()
    clerk = await factory.staff(tenant.org, role="STAFF")
    owner_token = await gql.login(tenant.owner.email, PASSWORD)
    bad = await gql(UPDATE, {"input": {"notificationEmails": ["ok@example.test", "nope"]}}, as_=owner_token)
    assert bad["updatePortalSettings"]["code"] == "INVALID_EMAIL"
    assert bad["updatePortalSettings"]["field"] == "notificationEmails[1]"
    clerk_token = await gql.login(clerk.email, PASSWORD)
    refused = await gql(UPDATE, {"input": {"portalEnabled": False}}, as_=clerk_token)
    assert refused["updatePortalSettings"]["code"] == "FORBIDDEN"
    assert (await gql(SETTINGS, as_=owner_token))["portalSettings"]["portalEnabled"] is True


async def test_portal_users_read_but_cannot_change_settings(gql: GraphQLClient, factory: Factory) -> None:
    tenant = await factory.tenant()
    token = await gql.login(tenant.person_a.email, PASSWORD, portal=tenant.org.portal_slug)
    assert (await gql(SETTINGS, as_=token))["portalSettings"]["portalEnabled"] is True
    refused = await gql.raw(UPDATE, {"input": {"portalEnabled": False}}, as_=token)
    assert refused.error_codes == ["FORBIDDEN"]
    assert (await gql.raw(SETTINGS)).error_codes == ["UNAUTHENTICATED"]


INSTRUCTIONS = """mutation($text: String!) { updatePortalSettings(input: {paymentInstructions: $text}) {
  __typename ... on PortalSettings { paymentInstructions } ... on UpdatePortalSettingsError { code field } } }"""
SHOWN = """query($id: ID!) { organization { paymentInstructions } invoice(id: $id) { paymentInstructions } }"""


async def test_payment_instructions_are_set_by_staff_and_shown_on_every_invoice(
    gql: GraphQLClient, factory: Factory
) -> None:
    ours, theirs = await factory.tenant(), await factory.tenant()
    invoice = await factory.invoice(ours.contact_a)
    staff = await gql.login(ours.owner.email, PASSWORD)
    client = await gql.login(ours.person_a.email, PASSWORD, portal=ours.org.portal_slug)
    text = "  Bank transfer: IBAN DE89 3704 0044 0532 0130 00\nReference: the invoice number  "
    # when staff write them (trimmed), the client sees them on the organization and on the invoice
    set_ = (await gql(INSTRUCTIONS, {"text": text}, as_=staff))["updatePortalSettings"]
    assert set_ == {"__typename": "PortalSettings", "paymentInstructions": text.strip()}
    assert await gql(SHOWN, {"id": invoice.gid}, as_=client) == {
        "organization": {"paymentInstructions": text.strip()},
        "invoice": {"paymentInstructions": text.strip()},
    }
    # another organization's are their own (none)
    rival = await gql.login(theirs.person_a.email, PASSWORD, portal=theirs.org.portal_slug)
    assert (await gql("{ organization { paymentInstructions } }", as_=rival))["organization"] == {
        "paymentInstructions": None
    }
    # too long, or control characters: refused, nothing changed; an empty string clears them
    for bad in ("x" * 2001, "pay\x07me"):
        refused = (await gql(INSTRUCTIONS, {"text": bad}, as_=staff))["updatePortalSettings"]
        assert refused == {
            "__typename": "UpdatePortalSettingsError",
            "code": "INVALID_INPUT",
            "field": "paymentInstructions",
        }
    assert (await gql(SHOWN, {"id": invoice.gid}, as_=client))["invoice"]["paymentInstructions"] == text.strip()
    cleared = (await gql(INSTRUCTIONS, {"text": ""}, as_=staff))["updatePortalSettings"]
    assert cleared["paymentInstructions"] is None
    # and a client may not set them
    forbidden = await gql.raw(INSTRUCTIONS, {"text": "mine"}, as_=client)
    assert forbidden.error_codes == ["FORBIDDEN"], forbidden.body
