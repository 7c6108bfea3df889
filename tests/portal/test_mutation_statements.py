"""What addComment and acceptEstimate send to PostgreSQL: inside their transaction one read, one write, and the
history entry written with its staff mail in one statement; nothing read back after the commit."""

from __future__ import annotations

import re

from core.database import Database
from tests.client import GraphQLClient
from tests.factories import Factory
from tests.portal.conftest import World, result_of, statements

ADD = """mutation($input: AddCommentInput!) { addComment(input: $input) { __typename
  ... on Comment { id body authorName createdAt } ... on AddCommentError { code } } }"""
ACCEPT = """mutation($id: ID!) { acceptEstimate(id: $id, signatureName: "Ada") { __typename
  ... on Estimate { id status acceptedAt } ... on AcceptEstimateError { code } } }"""


def _shapes(sent: list[str]) -> list[str]:
    """Each statement's verb and tables, leaving out the request's session check and rate limit."""
    shapes = []
    for statement in sent:
        if "auth_session" in statement or "rate_limit_bucket" in statement:
            continue
        verbs = re.findall(r"\b(SELECT|INSERT INTO|UPDATE)\s+(\w+)?", statement)
        tables = sorted({m for m in re.findall(r"\b(?:FROM|INTO|UPDATE)\s+(\w+)", statement)})
        shapes.append(f"{verbs[0][0]} {' '.join(tables)}")
    return shapes


async def test_a_client_comment_is_a_read_a_write_and_the_entry_with_its_mail(
    gql: GraphQLClient, factory: Factory, world: World, db: Database
) -> None:
    # given an invoice of the client's contact (and a session that has answered once already)
    invoice = await factory.invoice(world.ours.contact_a)
    await gql(ADD, {"input": {"targetId": invoice.gid, "body": "first"}}, as_=world.client)
    # when the client comments on it
    with statements(db) as sent:
        added = result_of(await gql(ADD, {"input": {"targetId": invoice.gid, "body": "Thanks"}}, as_=world.client))
    # then the answer is the comment, and the statements are: the target (with what the mail needs), the comment,
    # the history entry together with the staff mail
    person = world.ours.person_a
    expected = ("Comment", "Thanks", f"{person.first_name} {person.last_name}")
    assert (added["__typename"], added["body"], added["authorName"]) == expected
    shapes = _shapes(sent)
    assert len(shapes) == 3, shapes
    assert shapes[0].startswith("SELECT") and "invoice" in shapes[0]
    assert shapes[1].startswith("INSERT INTO comment")
    assert "activity" in shapes[2] and "outbox_mail" in shapes[2]


async def test_accepting_an_estimate_is_a_lock_an_update_and_the_entry_with_its_mail(
    gql: GraphQLClient, factory: Factory, world: World, db: Database
) -> None:
    # given two SENT estimates of the client's contact (the first answered to warm the session up)
    first, estimate = await factory.estimate(world.ours.contact_a), await factory.estimate(world.ours.contact_a)
    await gql(ACCEPT, {"id": first.gid}, as_=world.client)
    # when the client accepts the second
    with statements(db) as sent:
        accepted = result_of(await gql(ACCEPT, {"id": estimate.gid}, as_=world.client))
    # then the answer is the accepted estimate as the update left it, and the statements are: the locked row (with
    # the actor's name and what the mail needs), the update, the history entry together with the staff mail
    assert (accepted["__typename"], accepted["status"]) == ("Estimate", "ACCEPTED")
    assert accepted["acceptedAt"] is not None
    shapes = _shapes(sent)
    assert len(shapes) == 3, shapes
    assert shapes[0].startswith("SELECT") and "estimate" in shapes[0]
    assert sum("FOR UPDATE" in statement for statement in sent) == 1
    assert shapes[1].startswith("UPDATE") and "estimate" in shapes[1]
    assert "activity" in shapes[2] and "outbox_mail" in shapes[2]
