"""Per-organization document numbers stay unique and sequential under concurrent creates."""

from __future__ import annotations

import asyncio

from tests.client import GraphQLClient
from tests.factories import Factory
from tests.invoice.helpers import CREATE_ESTIMATE, CREATE_INVOICE, line, mutate, staff_session


async def test_concurrent_creates_get_unique_sequential_numbers(gql: GraphQLClient, factory: Factory) -> None:
    # given two organizations
    first = await staff_session(gql, factory)
    second = await staff_session(gql, factory)

    def create(mutation: str, staff_token: str, contact_gid: str) -> asyncio.Future[dict[str, object]]:
        variables = {"input": {"contactId": contact_gid, "lineItems": [line()]}}
        return asyncio.ensure_future(mutate(gql, mutation, variables, staff_token))

    # when 20 invoices and 5 estimates of the first and 5 invoices of the second are created at once
    results = await asyncio.gather(
        *(create(CREATE_INVOICE, first.token, first.tenant.contact_a.gid) for _ in range(20)),
        *(create(CREATE_ESTIMATE, first.token, first.tenant.contact_b.gid) for _ in range(5)),
        *(create(CREATE_INVOICE, second.token, second.tenant.contact_a.gid) for _ in range(5)),
    )
    # then each organization's sequence per kind has no gap and no duplicate
    assert sorted(str(r["number"]) for r in results[:20]) == [f"INV-{n:06d}" for n in range(1, 21)]
    assert sorted(str(r["number"]) for r in results[20:25]) == [f"EST-{n:06d}" for n in range(1, 6)]
    assert sorted(str(r["number"]) for r in results[25:]) == [f"INV-{n:06d}" for n in range(1, 6)]
