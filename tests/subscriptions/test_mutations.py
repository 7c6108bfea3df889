"""The real event sources: mutations publish, subscribers of the same process receive (and a failed one
publishes nothing). Each test subscribes over in-process websockets and acts over in-process HTTP."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from subscriptions.broker import Broker
from tests.client import GraphQLClient
from tests.factories import Factory
from tests.subscriptions.conftest import Sessions
from tests.subscriptions.test_fields import COMMENTS, PAYMENTS, STATUS, VIEWED, subscribed
from tests.subscriptions.wsclient import in_process

DASHBOARD = """subscription { dashboardUpdated {
  outstandingTotal outstandingCount estimatesAwaitingApproval lastPayment { id amount } } }"""
ACCEPT = """mutation($id: ID!) { acceptEstimate(id: $id, signatureName: "A. Client") {
  __typename ... on AcceptEstimateError { code } } }"""
VIEW = "mutation($id: ID!) { recordView(id: $id) { __typename } }"
COMMENT = """mutation($input: AddCommentInput!) { addComment(input: $input) { __typename ... on Comment { id } } }"""
PAY = """mutation($input: RecordPaymentInput!) { recordPayment(input: $input) {
  __typename ... on Payment { id } ... on RecordPaymentError { code } } }"""


async def test_accepting_an_estimate_reaches_staff_and_both_dashboards_but_not_another_contact(
    app: Any, gql: GraphQLClient, factory: Factory, sessions: Sessions, broker: Broker
) -> None:
    tenant = await factory.tenant()
    estimate = await factory.estimate(tenant.contact_a)
    portal_a = await sessions.portal(tenant.person_a)
    async with (
        in_process(app, await sessions.staff(tenant.owner)) as staff,
        in_process(app, portal_a) as portal,
        in_process(app, await sessions.portal(tenant.person_b)) as other_contact,
    ):
        status_op = await subscribed(staff, broker, tenant.org.pk, STATUS)
        staff_dashboard = await subscribed(staff, broker, tenant.org.pk, DASHBOARD)
        await subscribed(portal, broker, tenant.org.pk, DASHBOARD)
        await subscribed(other_contact, broker, tenant.org.pk, STATUS)
        await subscribed(other_contact, broker, tenant.org.pk, DASHBOARD)
        assert await gql(ACCEPT, {"id": estimate.gid}, as_=portal_a) == {"acceptEstimate": {"__typename": "Estimate"}}
        by_op = {}
        for _ in range(2):
            message = await staff.receive()
            by_op[message["id"]] = message["payload"]["data"]
        changed = by_op[status_op]["documentStatusChanged"]
        assert (changed["document"]["id"], changed["previousStatus"], changed["status"]) == (
            estimate.gid,
            "SENT",
            "ACCEPTED",
        )
        assert changed["actor"] == {"__typename": "ContactPerson", "name": f"{tenant.person_a.first_name} Tester"}
        assert by_op[staff_dashboard]["dashboardUpdated"]["estimatesAwaitingApproval"] == 0
        assert (await portal.next_data())["dashboardUpdated"]["estimatesAwaitingApproval"] == 0
        await other_contact.silent()


async def test_a_failed_mutation_publishes_nothing(
    app: Any, gql: GraphQLClient, factory: Factory, sessions: Sessions, broker: Broker
) -> None:
    tenant = await factory.tenant()
    accepted = await factory.estimate(tenant.contact_a, status="ACCEPTED")
    open_estimate = await factory.estimate(tenant.contact_a)
    portal_a = await sessions.portal(tenant.person_a)
    async with in_process(app, await sessions.staff(tenant.owner)) as staff:
        await subscribed(staff, broker, tenant.org.pk, STATUS)
        refused = await gql(ACCEPT, {"id": accepted.gid}, as_=portal_a)
        assert refused["acceptEstimate"] == {"__typename": "AcceptEstimateError", "code": "INVALID_STATE"}
        await gql(ACCEPT, {"id": open_estimate.gid}, as_=portal_a)
        # the first event to arrive is the second action's
        assert (await staff.next_data())["documentStatusChanged"]["document"]["id"] == open_estimate.gid


async def test_a_first_portal_view_reaches_staff(
    app: Any, gql: GraphQLClient, factory: Factory, sessions: Sessions, broker: Broker
) -> None:
    tenant = await factory.tenant()
    invoice = await factory.invoice(tenant.contact_a)
    async with in_process(app, await sessions.staff(tenant.owner)) as staff:
        await subscribed(staff, broker, tenant.org.pk, VIEWED)
        await gql(VIEW, {"id": invoice.gid}, as_=await sessions.portal(tenant.person_a))
        viewed = (await staff.next_data())["documentViewed"]
        assert (viewed["document"]["id"], viewed["viewedBy"]["id"]) == (invoice.gid, tenant.person_a.gid)


async def test_comments_added_reach_whoever_may_read_them(
    app: Any, gql: GraphQLClient, factory: Factory, sessions: Sessions, broker: Broker
) -> None:
    tenant = await factory.tenant()
    estimate = await factory.estimate(tenant.contact_a)
    staff_token, portal_a = await sessions.staff(tenant.owner), await sessions.portal(tenant.person_a)
    async with in_process(app, staff_token) as staff, in_process(app, portal_a) as portal:
        await subscribed(staff, broker, tenant.org.pk, COMMENTS)
        await subscribed(portal, broker, tenant.org.pk, COMMENTS, target=estimate.gid)
        internal = {"targetId": estimate.gid, "body": "internal note", "visibleInPortal": False}
        assert (await gql(COMMENT, {"input": internal}, as_=staff_token))["addComment"]["__typename"] == "Comment"
        question = {"targetId": estimate.gid, "body": "a question"}
        assert (await gql(COMMENT, {"input": question}, as_=portal_a))["addComment"]["__typename"] == "Comment"
        assert [(await staff.next_data())["commentAdded"]["body"] for _ in range(2)] == ["internal note", "a question"]
        assert (await portal.next_data())["commentAdded"]["body"] == "a question"
        await portal.silent()


async def test_recording_a_payment_reaches_staff(
    app: Any, gql: GraphQLClient, factory: Factory, sessions: Sessions, broker: Broker
) -> None:
    tenant = await factory.tenant()
    invoice = await factory.invoice(tenant.contact_a)
    staff_token = await sessions.staff(tenant.owner)
    async with in_process(app, staff_token) as staff:
        await subscribed(staff, broker, tenant.org.pk, PAYMENTS)
        payment = {
            "contactId": tenant.contact_a.gid,
            "amount": "100.00",
            "mode": "BANK_TRANSFER",
            "allocations": [{"invoiceId": invoice.gid, "amount": "100.00"}],
        }
        recorded = (await gql(PAY, {"input": payment}, as_=staff_token))["recordPayment"]
        assert recorded["__typename"] == "Payment"
        received = (await staff.next_data())["paymentReceived"]
        assert (received["id"], Decimal(received["amount"])) == (recorded["id"], Decimal("100"))
        assert received["allocations"][0]["invoice"]["balanceDue"] == "0.00"


VISIBILITY = """mutation($id: ID!, $visible: Boolean!) { setCommentVisibility(id: $id, visibleInPortal: $visible) {
  __typename } }"""


async def test_a_staff_comment_made_visible_later_reaches_the_portal_then_and_staff_only_once(
    app: Any, gql: GraphQLClient, factory: Factory, sessions: Sessions, broker: Broker
) -> None:
    tenant = await factory.tenant()
    invoice = await factory.invoice(tenant.contact_a)
    staff_token = await sessions.staff(tenant.owner)
    async with (
        in_process(app, staff_token) as staff,
        in_process(app, await sessions.portal(tenant.person_a)) as portal,
    ):
        await subscribed(staff, broker, tenant.org.pk, COMMENTS)
        await subscribed(portal, broker, tenant.org.pk, COMMENTS)
        # a staff-only comment: staff hear of it, the portal does not
        note = {"input": {"targetId": invoice.gid, "body": "internal for now"}}
        comment_id = (await gql(COMMENT, note, as_=staff_token))["addComment"]["id"]
        assert (await staff.next_data())["commentAdded"]["body"] == "internal for now"
        await portal.silent()
        # made visible: the portal gets it then, as a new comment; staff, who had it, get nothing again
        assert await gql(VISIBILITY, {"id": comment_id, "visible": True}, as_=staff_token) == {
            "setCommentVisibility": {"__typename": "Comment"}
        }
        shown = (await portal.next_data())["commentAdded"]
        assert (shown["id"], shown["body"], shown["visibleInPortal"]) == (comment_id, "internal for now", True)
        await staff.silent()
        # hidden again: nothing is announced
        await gql(VISIBILITY, {"id": comment_id, "visible": False}, as_=staff_token)
        await portal.silent()
