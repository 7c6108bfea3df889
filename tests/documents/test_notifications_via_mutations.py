"""Staff notifications end to end: the portal mutations that record client actions mail the owner once each."""

from __future__ import annotations

import uuid
from typing import Any

from core.database import Database
from core.settings import Settings
from tests.client import GraphQLClient
from tests.factories import PASSWORD, Factory
from tests.smtp import Inbox, SmtpServer


async def mutate(gql: GraphQLClient, token: str, document: str, variables: dict[str, Any]) -> dict[str, Any]:
    data = await gql(document, variables, as_=token)
    [result] = data.values()
    assert "code" not in result, result  # no XError
    return result  # type: ignore[no-any-return]


async def test_each_client_action_mails_the_owner_once(
    gql: GraphQLClient, factory: Factory, db: Database, settings: Settings, smtp: SmtpServer
) -> None:
    # given a portal user with an invoice and two sent estimates
    tenant = await factory.tenant()
    invoice = await factory.invoice(tenant.contact_a)
    to_accept = await factory.estimate(tenant.contact_a)
    to_decline = await factory.estimate(tenant.contact_a)
    portal = await gql.login(tenant.person_a.email, PASSWORD, portal=tenant.org.portal_slug)
    staff = await gql.login(tenant.owner.email, PASSWORD)
    # when they view the invoice twice, accept one estimate, decline the other, comment, review and pay
    view = "mutation($id: ID!) { recordView(id: $id) { __typename ... on RecordViewError { code } } }"
    await mutate(gql, portal, view, {"id": invoice.gid})
    await mutate(gql, portal, view, {"id": invoice.gid})
    await mutate(
        gql,
        portal,
        """mutation($id: ID!) { acceptEstimate(id: $id, signatureName: "Jane Q") {
             __typename ... on AcceptEstimateError { code } } }""",
        {"id": to_accept.gid},
    )
    await mutate(
        gql,
        portal,
        """mutation($id: ID!) { declineEstimate(id: $id, reason: "Over budget") {
             __typename ... on DeclineEstimateError { code } } }""",
        {"id": to_decline.gid},
    )
    comment = """mutation($input: AddCommentInput!) { addComment(input: $input) {
                   __typename ... on AddCommentError { code } } }"""
    await mutate(gql, portal, comment, {"input": {"targetId": invoice.gid, "body": "Is VAT included?"}})
    await mutate(
        gql,
        portal,
        """mutation($input: SubmitReviewInput!) { submitReview(input: $input) {
             __typename ... on SubmitReviewError { code } } }""",
        {"input": {"rating": 5, "text": "Great work."}},
    )
    paid = await mutate(
        gql,
        portal,
        """mutation($input: PayInvoicesInput!) { payInvoices(input: $input) {
             __typename ... on PaymentAttempt { status } ... on PayInvoicesError { code } } }""",
        {
            "input": {
                "invoiceIds": [invoice.gid],
                "method": {"type": "SIMULATED"},
                "idempotencyKey": str(uuid.uuid4()),
            }
        },
    )
    assert paid["status"] == "SUCCEEDED"
    # and staff answer the comment (their own action: no mail)
    await mutate(gql, staff, comment, {"input": {"targetId": invoice.gid, "body": "Yes.", "visibleInPortal": True}})
    # then the owner has exactly one mail per client action, each with a link
    await smtp.deliver(db, settings)
    inbox = smtp.inbox.to(tenant.owner.email)
    subjects = sorted(message["Subject"] for message in inbox)
    expected = [
        f"accepted estimate {to_accept.number}",
        f"commented on invoice {invoice.number}",
        f"declined estimate {to_decline.number}",
        f"paid $100.00 on invoice {invoice.number}",
        "left a 5-star review",
        f"viewed invoice {invoice.number}",
    ]
    assert len(subjects) == len(expected), subjects
    for fragment in expected:
        assert sum(fragment in subject for subject in subjects) == 1, (fragment, subjects)
    texts = [Inbox.text(message) for message in inbox]
    assert any("Over budget" in text for text in texts)
    assert any("Is VAT included?" in text for text in texts)
    assert any("Great work." in text for text in texts)
    assert any("Signed as: Jane Q" in text for text in texts)
    assert all(settings.public_portal_url.rstrip("/") in text for text in texts)
