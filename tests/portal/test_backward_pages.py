"""Connections page backwards too (`last`/`before`, Relay's other direction): the same items in the same order as
forwards, page info to match, and `first`/`after` never mixed with `last`/`before`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from tests.client import GraphQLClient
from tests.factories import Factory
from tests.subscriptions.conftest import Sessions

PAGE = """query($first: Int, $after: String, $last: Int, $before: String) {
  invoices(first: $first, after: $after, last: $last, before: $before) {
    edges { node { number } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }"""
COMMENTS = """query($id: ID!, $last: Int, $before: String) { invoice(id: $id) {
  comments(last: $last, before: $before) {
    edges { node { body } } pageInfo { hasPreviousPage hasNextPage startCursor } } } }"""


def numbers(page: dict[str, Any]) -> list[str]:
    return [edge["node"]["number"] for edge in page["edges"]]


async def test_walking_back_from_the_end_meets_every_item_in_list_order(
    gql: GraphQLClient, factory: Factory, sessions: Sessions
) -> None:
    tenant = await factory.tenant()
    today = dt.date.today()
    for days in range(5):
        await factory.invoice(tenant.contact_a, issue_date=today - dt.timedelta(days=days))
    token = await sessions.portal(tenant.person_a)
    forwards = (await gql(PAGE, {"first": 100}, as_=token))["invoices"]
    listed = numbers(forwards)
    assert len(listed) == 5
    # the last two of the newest-first list: the two oldest, still newest first; there are items before them
    tail = (await gql(PAGE, {"last": 2}, as_=token))["invoices"]
    assert numbers(tail) == listed[3:]
    assert (tail["pageInfo"]["hasPreviousPage"], tail["pageInfo"]["hasNextPage"]) == (True, False)
    # and paging back from there meets the rest, page by page, until there is nothing before
    collected, page = numbers(tail), tail
    while page["pageInfo"]["hasPreviousPage"]:
        page = (await gql(PAGE, {"last": 2, "before": page["pageInfo"]["startCursor"]}, as_=token))["invoices"]
        assert page["pageInfo"]["hasNextPage"] is True
        collected = numbers(page) + collected
    assert collected == listed
    # a backwards page's cursors are the forward ones: `after` its endCursor continues forwards
    middle = (await gql(PAGE, {"last": 2, "before": tail["pageInfo"]["startCursor"]}, as_=token))["invoices"]
    onwards = (await gql(PAGE, {"first": 10, "after": middle["pageInfo"]["endCursor"]}, as_=token))["invoices"]
    assert numbers(onwards) == listed[3:]


async def test_an_oldest_first_list_pages_back_from_its_newest(
    gql: GraphQLClient, factory: Factory, sessions: Sessions
) -> None:
    tenant = await factory.tenant()
    invoice = await factory.invoice(tenant.contact_a)
    for n in range(3):
        await factory.comment(invoice, person=tenant.person_a, body=f"comment {n}")
    token = await sessions.portal(tenant.person_a)
    last = (await gql(COMMENTS, {"id": invoice.gid, "last": 2}, as_=token))["invoice"]["comments"]
    assert [edge["node"]["body"] for edge in last["edges"]] == ["comment 1", "comment 2"]
    before = await gql(COMMENTS, {"id": invoice.gid, "last": 2, "before": last["pageInfo"]["startCursor"]}, as_=token)
    page = before["invoice"]["comments"]
    assert [edge["node"]["body"] for edge in page["edges"]] == ["comment 0"]
    assert (page["pageInfo"]["hasPreviousPage"], page["pageInfo"]["hasNextPage"]) == (False, True)


async def test_directions_are_not_mixed_and_last_has_the_page_limit(
    gql: GraphQLClient, factory: Factory, sessions: Sessions
) -> None:
    tenant = await factory.tenant()
    token = await sessions.portal(tenant.person_a)
    for variables, field in (({"first": 2, "last": 2}, "last"), ({"last": 101}, "last"), ({"last": -1}, "last")):
        result = await gql.raw(PAGE, variables, as_=token)
        assert result.error_codes == ["BAD_USER_INPUT"], result.body
        assert result.errors[0]["extensions"]["field"] == field
