"""submitReview and reviews: one review per person, the average for staff."""

from __future__ import annotations

import pytest

from core.database import Database
from core.scope import T_ACTIVITY, T_REVIEW
from tests.client import GraphQLClient
from tests.invoice.helpers import snapshot
from tests.portal.conftest import World, result_of

SUBMIT = """mutation($input: SubmitReviewInput!) { submitReview(input: $input) { __typename
  ... on Review { id rating text updatedAt contactPerson { id } } ... on SubmitReviewError { code field } } }"""
REVIEWS = """query($first: Int, $after: String) { reviews(first: $first, after: $after) {
  totalCount averageRating pageInfo { hasNextPage endCursor }
  edges { node { id rating text contactPerson { id } } } } }"""


async def test_a_new_review_replaces_the_persons_previous_one(gql: GraphQLClient, world: World, db: Database) -> None:
    # given a client who reviewed the organization
    first = result_of(await gql(SUBMIT, {"input": {"rating": 2, "text": " Slow replies "}}, as_=world.client))
    assert (first["rating"], first["text"], first["updatedAt"]) == (2, "Slow replies", None)
    assert first["contactPerson"]["id"] == world.ours.person_a.gid
    # when they review again
    second = result_of(await gql(SUBMIT, {"input": {"rating": 5}}, as_=world.client))
    # then the same review now holds the new rating and text
    assert (second["id"], second["rating"], second["text"]) == (first["id"], 5, None)
    assert second["updatedAt"] is not None
    assert len(await snapshot(db, T_REVIEW)) == 1
    assert [row["details"]["rating"] for row in await snapshot(db, T_ACTIVITY, kind="review_submitted")] == [2, 5]


async def test_staff_list_reviews_with_the_average(gql: GraphQLClient, world: World) -> None:
    # given three reviews in our organization and one in the rival's
    await gql(SUBMIT, {"input": {"rating": 5, "text": "Great"}}, as_=world.client)
    await gql(SUBMIT, {"input": {"rating": 4}}, as_=world.colleague_token)
    await gql(SUBMIT, {"input": {"rating": 4}}, as_=world.other)
    await gql(SUBMIT, {"input": {"rating": 1}}, as_=world.rival_client)
    # when staff page through them
    page = (await gql(REVIEWS, {"first": 2}, as_=world.staff))["reviews"]
    rest = (await gql(REVIEWS, {"first": 2, "after": page["pageInfo"]["endCursor"]}, as_=world.staff))["reviews"]
    # then they see their organization's three, newest first, and the average 13 / 3 = 4.33
    assert (page["totalCount"], page["averageRating"]) == (3, "4.33")
    persons = [e["node"]["contactPerson"]["id"] for e in page["edges"] + rest["edges"]]
    assert persons == [world.ours.person_b.gid, world.colleague.gid, world.ours.person_a.gid]
    assert page["pageInfo"]["hasNextPage"] and not rest["pageInfo"]["hasNextPage"]
    # and the rival's staff see only their own
    rival = (await gql(REVIEWS, as_=world.rival_staff))["reviews"]
    assert (rival["totalCount"], rival["averageRating"]) == (1, "1.00")
    # and a portal user sees only their own review
    mine = (await gql(REVIEWS, as_=world.client))["reviews"]
    assert [e["node"]["rating"] for e in mine["edges"]] == [5]


async def test_no_reviews_no_average(gql: GraphQLClient, world: World) -> None:
    empty = (await gql(REVIEWS, as_=world.staff))["reviews"]
    assert (empty["totalCount"], empty["averageRating"], empty["edges"]) == (0, None, [])


@pytest.mark.parametrize(
    ("review", "field"),
    [({"rating": 0}, "rating"), ({"rating": 6}, "rating"), ({"rating": 3, "text": "x" * 5001}, "text")],
)
async def test_invalid_reviews_are_refused(
    gql: GraphQLClient, world: World, db: Database, review: dict[str, object], field: str
) -> None:
    result = result_of(await gql(SUBMIT, {"input": review}, as_=world.client))
    assert (result["code"], result["field"]) == ("INVALID_INPUT", field)
    assert await snapshot(db, T_REVIEW) == []


async def test_reviews_off_means_feature_disabled(gql: GraphQLClient, world: World, db: Database) -> None:
    await gql("mutation { updatePortalSettings(input: {allowReviews: false}) { __typename } }", as_=world.staff)
    result = result_of(await gql(SUBMIT, {"input": {"rating": 4}}, as_=world.client))
    assert result["code"] == "FEATURE_DISABLED"
    assert await snapshot(db, T_REVIEW) == []


async def test_only_portal_users_submit_and_anonymous_reads_nothing(gql: GraphQLClient, world: World) -> None:
    assert (await gql.raw(SUBMIT, {"input": {"rating": 4}}, as_=world.staff)).error_codes == ["FORBIDDEN"]
    assert (await gql.raw(SUBMIT, {"input": {"rating": 4}})).error_codes == ["UNAUTHENTICATED"]
    assert (await gql.raw(REVIEWS)).error_codes == ["UNAUTHENTICATED"]
