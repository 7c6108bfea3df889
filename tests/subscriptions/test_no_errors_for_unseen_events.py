"""A subscriber never gets an error for an event it may not see: such events are skipped, whoever else listens."""

from __future__ import annotations

import asyncio
from typing import Any

from subscriptions.broker import Broker
from tests.client import GraphQLClient
from tests.factories import Factory
from tests.subscriptions.conftest import Sessions
from tests.subscriptions.test_fields import subscribed
from tests.subscriptions.wsclient import Socket, in_process

EVERYTHING = """subscription($target: ID) { commentAdded(targetId: $target) {
  __typename id body authorKind authorName visibleInPortal createdAt } }"""
ADD = """mutation($input: AddCommentInput!) { addComment(input: $input) { __typename ... on Comment { id } } }"""


async def drain(socket: Socket, seconds: float = 0.5) -> list[dict[str, Any]]:
    messages = []
    while True:
        try:
            messages.append(await socket.receive(timeout=seconds))
        except TimeoutError:
            return messages


async def test_comment_events_reach_who_may_see_them_and_nobody_else_gets_an_error(
    app: Any, gql: GraphQLClient, factory: Factory, sessions: Sessions, broker: Broker
) -> None:
    tenant = await factory.tenant()
    invoice_a = await factory.invoice(tenant.contact_a)
    draft_a = await factory.invoice(tenant.contact_a, status="DRAFT")
    staff_token = await sessions.staff(tenant.owner)
    portal_a = await sessions.portal(tenant.person_a)
    colleague = await factory.person(tenant.contact_a)
    async with (
        in_process(app, staff_token) as staff,
        in_process(app, portal_a) as author,
        in_process(app, await sessions.portal(colleague)) as same_contact,
        in_process(app, await sessions.portal(tenant.person_b)) as other_contact,
    ):
        org = tenant.org.pk
        for socket in (staff, author, same_contact, other_contact):
            await subscribed(socket, broker, org, EVERYTHING)
            await subscribed(socket, broker, org, EVERYTHING, target=None)
        await subscribed(staff, broker, org, EVERYTHING, target=draft_a.gid)
        await subscribed(author, broker, org, EVERYTHING, target=invoice_a.gid)
        # a client comment, a staff comment hidden from the portal, a staff comment on a draft, a visible one
        inputs = [
            ({"targetId": invoice_a.gid, "body": "client"}, portal_a),
            ({"targetId": invoice_a.gid, "body": "internal", "visibleInPortal": False}, staff_token),
            ({"targetId": draft_a.gid, "body": "on the draft", "visibleInPortal": True}, staff_token),
            ({"targetId": invoice_a.gid, "body": "for the client", "visibleInPortal": True}, staff_token),
        ]
        results = await asyncio.gather(*(gql(ADD, {"input": i}, as_=token) for i, token in inputs))
        assert all(r["addComment"]["__typename"] == "Comment" for r in results), results
        received = {
            name: await drain(s)
            for name, s in [
                ("staff", staff),
                ("author", author),
                ("same_contact", same_contact),
                ("other", other_contact),
            ]
        }
    for name, messages in received.items():
        assert all(m["type"] == "next" and "errors" not in m["payload"] for m in messages), (name, messages)
    bodies = {name: sorted(m["payload"]["data"]["commentAdded"]["body"] for m in ms) for name, ms in received.items()}
    everything = ["client", "for the client", "internal", "on the draft"]
    assert bodies["staff"] == sorted(everything * 2 + ["on the draft"])
    portal_sees = ["client", "for the client"]
    assert bodies["author"] == sorted(portal_sees * 3)
    assert bodies["same_contact"] == sorted(portal_sees * 2)
    assert bodies["other"] == []
