"""addComment and setCommentVisibility: who sees which comment."""

from __future__ import annotations

import pytest

from core.database import Database
from core.scope import T_ACTIVITY, T_COMMENT
from tests.client import GraphQLClient
from tests.factories import Factory, Row
from tests.invoice.helpers import snapshot
from tests.portal.conftest import World, published, result_of

ADD = """mutation($input: AddCommentInput!) { addComment(input: $input) { __typename
  ... on Comment { id body visibleInPortal authorKind authorName targetId }
  ... on AddCommentError { code field } } }"""
SET_VISIBILITY = """mutation($id: ID!, $visible: Boolean!) { setCommentVisibility(id: $id, visibleInPortal: $visible) {
  __typename ... on Comment { id visibleInPortal } ... on SetCommentVisibilityError { code field } } }"""
THREAD = """query($id: ID!) { node(id: $id) {
  ... on Estimate { commentCount comments { totalCount edges { node { body } } } }
  ... on Invoice { commentCount comments { totalCount edges { node { body } } } }
  ... on Project { comments { totalCount edges { node { body } } } } } }"""


async def bodies(gql: GraphQLClient, target: Row, token: str) -> list[str]:
    node = (await gql(THREAD, {"id": target.gid}, as_=token))["node"]
    if node is None:
        return []
    return [edge["node"]["body"] for edge in node["comments"]["edges"]]


@pytest.mark.parametrize("kind", ["estimate", "invoice", "project"])
async def test_a_client_comment_reaches_staff_and_every_person_of_the_contact(
    gql: GraphQLClient, factory: Factory, world: World, db: Database, app: object, kind: str
) -> None:
    # given a document (or project) of contact A
    target = await getattr(factory, kind)(world.ours.contact_a)
    # when the client comments, asking (in vain) to hide it
    async with published(app, world.ours.org.pk) as events:
        added = result_of(
            await gql(
                ADD,
                {"input": {"targetId": target.gid, "body": "  Can we talk?  ", "visibleInPortal": False}},
                as_=world.client,
            )
        )
    # then it is stored as plain, trimmed text, by the client, and visible in the portal
    assert (added["__typename"], added["body"], added["authorKind"]) == ("Comment", "Can we talk?", "CLIENT")
    assert added["visibleInPortal"] is True
    assert added["authorName"] == f"{world.ours.person_a.first_name} Tester"
    assert added["targetId"] == target.gid  # (the thread it goes in: a live commentAdded says so too)
    # and staff, the client and a colleague of the same contact see it; another contact's person does not
    for token in (world.staff, world.client, world.colleague_token):
        assert await bodies(gql, target, token) == ["Can we talk?"]
    assert await bodies(gql, target, world.other) == []
    # and a client-visible "commented" history entry and one CommentAdded event were written
    history = await snapshot(db, T_ACTIVITY, kind="commented")
    assert [(row["client_visible"], row[f"{kind}_id"]) for row in history] == [(True, target.pk)]
    assert [(e["type"], e["contact_id"]) for e in events] == [("CommentAdded", world.ours.contact_a.pk)]


async def test_staff_comments_reach_the_portal_only_when_visible(
    gql: GraphQLClient, factory: Factory, world: World, db: Database
) -> None:
    invoice = await factory.invoice(world.ours.contact_a)
    hidden = result_of(await gql(ADD, {"input": {"targetId": invoice.gid, "body": "internal"}}, as_=world.staff))
    shown = result_of(
        await gql(ADD, {"input": {"targetId": invoice.gid, "body": "reply", "visibleInPortal": True}}, as_=world.staff)
    )
    assert (hidden["authorKind"], hidden["visibleInPortal"], shown["visibleInPortal"]) == ("STAFF", False, True)
    assert await bodies(gql, invoice, world.staff) == ["internal", "reply"]
    assert await bodies(gql, invoice, world.client) == ["reply"]
    history = await snapshot(db, T_ACTIVITY, kind="commented")
    assert [row["client_visible"] for row in history] == [False, True]
    # when staff later show the hidden one and hide the visible one
    assert result_of(await gql(SET_VISIBILITY, {"id": hidden["id"], "visible": True}, as_=world.staff))[
        "visibleInPortal"
    ]
    await gql(SET_VISIBILITY, {"id": shown["id"], "visible": False}, as_=world.staff)
    # then the portal follows
    assert await bodies(gql, invoice, world.client) == ["internal"]
    counts = (await gql(THREAD, {"id": invoice.gid}, as_=world.client))["node"]["commentCount"]
    assert counts == 1


async def test_staff_may_comment_on_drafts_which_the_portal_never_sees(
    gql: GraphQLClient, factory: Factory, world: World
) -> None:
    draft = await factory.estimate(world.ours.contact_a, status="DRAFT")
    added = result_of(
        await gql(ADD, {"input": {"targetId": draft.gid, "body": "x", "visibleInPortal": True}}, as_=world.staff)
    )
    assert added["__typename"] == "Comment"
    refused = result_of(await gql(ADD, {"input": {"targetId": draft.gid, "body": "y"}}, as_=world.client))
    assert (refused["code"], refused["field"]) == ("NOT_FOUND", "targetId")


@pytest.mark.parametrize("body", ["", "   ", "x" * 5001, "bad\x01byte"])
async def test_the_body_must_be_1_to_5000_characters_of_text(
    gql: GraphQLClient, factory: Factory, world: World, db: Database, body: str
) -> None:
    invoice = await factory.invoice(world.ours.contact_a)
    result = result_of(await gql(ADD, {"input": {"targetId": invoice.gid, "body": body}}, as_=world.client))
    assert (result["code"], result["field"]) == ("INVALID_INPUT", "body")
    assert await snapshot(db, T_COMMENT) == []


async def test_5000_characters_are_fine(gql: GraphQLClient, factory: Factory, world: World) -> None:
    invoice = await factory.invoice(world.ours.contact_a)
    result = result_of(await gql(ADD, {"input": {"targetId": invoice.gid, "body": "é" * 5000}}, as_=world.client))
    assert len(result["body"]) == 5000


async def test_targets_outside_the_scope_are_not_found(
    gql: GraphQLClient, factory: Factory, world: World, db: Database
) -> None:
    # given documents of another contact and of another organization, and a project while projects are hidden
    other_contact = await factory.invoice(world.ours.contact_b)
    rival = await factory.estimate(world.theirs.contact_a)
    attempts = [
        (other_contact.gid, world.client),
        (rival.gid, world.client),
        (rival.gid, world.staff),
        (world.ours.contact_a.gid, world.client),  # not something one comments on
        ("garbage", world.staff),
    ]
    for gid, token in attempts:
        result = result_of(await gql(ADD, {"input": {"targetId": gid, "body": "hi"}}, as_=token))
        assert (result["code"], result["field"]) == ("NOT_FOUND", "targetId"), gid
    assert await snapshot(db, T_COMMENT) == []


async def test_comments_on_projects_follow_the_portal_setting(
    gql: GraphQLClient, factory: Factory, world: World, db: Database
) -> None:
    project = await factory.project(world.ours.contact_a)
    await gql(
        "mutation { updatePortalSettings(input: {showProjectsAndTimesheets: false}) { __typename } }", as_=world.staff
    )
    result = result_of(await gql(ADD, {"input": {"targetId": project.gid, "body": "hi"}}, as_=world.client))
    assert result["code"] == "NOT_FOUND"
    assert await snapshot(db, T_COMMENT) == []


async def test_visibility_changes_are_for_staff_comments_and_staff_only(
    gql: GraphQLClient, factory: Factory, world: World, db: Database
) -> None:
    invoice = await factory.invoice(world.ours.contact_a)
    client_comment = await factory.comment(invoice, person=world.ours.person_a)
    staff_comment = await factory.comment(invoice, staff=world.ours.owner, visible=True)
    rival_comment = await factory.comment(
        await factory.invoice(world.theirs.contact_a), staff=world.theirs.owner, visible=False
    )
    # a client's comment is always visible
    result = result_of(await gql(SET_VISIBILITY, {"id": client_comment.gid, "visible": False}, as_=world.staff))
    assert (result["code"], result["field"]) == ("INVALID_STATE", "id")
    # another organization's comment does not exist for us
    result = result_of(await gql(SET_VISIBILITY, {"id": rival_comment.gid, "visible": True}, as_=world.staff))
    assert (result["code"], result["field"]) == ("NOT_FOUND", "id")
    # portal users and anonymous callers may not change visibility
    outsiders = await gql.raw(SET_VISIBILITY, {"id": staff_comment.gid, "visible": False}, as_=world.client)
    assert outsiders.error_codes == ["FORBIDDEN"]
    anonymous = await gql.raw(SET_VISIBILITY, {"id": staff_comment.gid, "visible": False})
    assert anonymous.error_codes == ["UNAUTHENTICATED"]
    assert [row["visible_in_portal"] for row in await snapshot(db, T_COMMENT)] == [False, True, False]
