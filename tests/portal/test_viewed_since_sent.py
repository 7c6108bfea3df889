"""`viewed` means viewed since the document was last sent: sending it again starts the count over, while the
history keeps every earlier view."""

from __future__ import annotations

import pytest

from tests.client import GraphQLClient
from tests.factories import Factory
from tests.invoice.helpers import SEND_ESTIMATE, SEND_INVOICE, UPDATE_ESTIMATE, line
from tests.portal.conftest import World, published, result_of

RECORD_VIEW = """mutation($id: ID!) { recordView(id: $id) { __typename
  ... on Estimate { viewed viewedAt viewedBy { id } } ... on Invoice { viewed viewedAt viewedBy { id } } } }"""

DECLINE = 'mutation($id: ID!) { declineEstimate(id: $id, reason: "Too dear") { __typename } }'

SEEN = """query($id: ID!) { node(id: $id) { ... on Document { viewed viewedAt viewedBy { id }
  activity { kind } } } }"""


async def test_a_revised_estimate_sent_again_is_unviewed_until_the_client_opens_it(
    gql: GraphQLClient, factory: Factory, world: World, app: object
) -> None:
    # given a sent estimate the client opened, then declined
    estimate = await factory.estimate(world.ours.contact_a)
    first = result_of(await gql(RECORD_VIEW, {"id": estimate.gid}, as_=world.client))
    assert first["viewed"] is True
    assert result_of(await gql(DECLINE, {"id": estimate.gid}, as_=world.client))["__typename"] == "Estimate"
    # when staff revise it and send it again
    revised = {"input": {"id": estimate.gid, "lineItems": [line(rate="40")]}}
    assert result_of(await gql(UPDATE_ESTIMATE, revised, as_=world.staff))["status"] == "DRAFT"
    assert result_of(await gql(SEND_ESTIMATE, {"id": estimate.gid}, as_=world.staff))["status"] == "SENT"
    # then staff see it unviewed, and its history still holds the client's earlier view
    seen = (await gql(SEEN, {"id": estimate.gid}, as_=world.staff))["node"]
    assert (seen["viewed"], seen["viewedAt"], seen["viewedBy"]) == (False, None, None)
    assert [entry["kind"] for entry in seen["activity"]] == ["viewed", "declined", "revised", "sent"]
    # and the client's next view is a first view of the new version again: marked, announced, in the history
    async with published(app, world.ours.org.pk) as events:
        again = result_of(await gql(RECORD_VIEW, {"id": estimate.gid}, as_=world.client))
    assert again["viewed"] is True and again["viewedAt"] != first["viewedAt"]
    assert again["viewedBy"] == {"id": world.ours.person_a.gid}
    assert [event["type"] for event in events] == ["DocumentViewed"]
    seen = (await gql(SEEN, {"id": estimate.gid}, as_=world.staff))["node"]
    assert [entry["kind"] for entry in seen["activity"]] == ["viewed", "declined", "revised", "sent", "viewed"]


@pytest.mark.parametrize(("kind", "mutation"), [("estimate", SEND_ESTIMATE), ("invoice", SEND_INVOICE)])
async def test_sending_again_starts_viewed_over(
    gql: GraphQLClient, factory: Factory, world: World, kind: str, mutation: str
) -> None:
    # given a sent document the client opened
    document = await getattr(factory, kind)(world.ours.contact_a)
    await gql(RECORD_VIEW, {"id": document.gid}, as_=world.client)
    # when staff send it again (a reminder, or after changing it)
    sent = result_of(await gql(mutation, {"id": document.gid}, as_=world.staff))
    # then it reads as not viewed since, and the earlier view stays in the history
    assert sent["status"] == "SENT"
    seen = (await gql(SEEN, {"id": document.gid}, as_=world.staff))["node"]
    assert (seen["viewed"], seen["viewedAt"], seen["viewedBy"]) == (False, None, None)
    assert [entry["kind"] for entry in seen["activity"]] == ["viewed", "sent"]
