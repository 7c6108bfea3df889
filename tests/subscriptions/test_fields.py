"""Each Subscription field over a real (in-process) websocket: who receives what, re-read per event.

Events are emitted from committed transactions with ``emit()``, as the mutations do; the mutations themselves
are exercised end to end in test_live.py.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import event, update

from core.database import Database
from core.ids import to_global_id
from core.scope import T_CONTACT, T_ESTIMATE
from models.access import AuthSession
from schema.base import gravatar_url
from subscriptions.broker import Broker
from subscriptions.events import (
    CommentAdded,
    DocumentStatusChanged,
    DocumentViewed,
    PaymentReceived,
    organization_channel,
)
from tests.factories import Factory
from tests.subscriptions.conftest import Emitter, Sessions
from tests.subscriptions.wsclient import Socket, in_process, until

STATUS = """subscription { documentStatusChanged {
  document { __typename id number ... on Estimate { reference contact { displayName } } }
  previousStatus status actor { __typename ... on ContactPerson { name } ... on StaffUser { name } } } }"""
VIEWED = """subscription { documentViewed {
  document { __typename id } viewedBy { id name avatarUrl } viewedAt } }"""
COMMENTS = """subscription($target: ID) { commentAdded(targetId: $target) { id body authorKind visibleInPortal } }"""
PAYMENTS = """subscription { paymentReceived { id amount allocations { amount invoice { id balanceDue } } } }"""


async def subscribed(socket: Socket, broker: Broker, organization_id: int, query: str, **variables: Any) -> str:
    """Subscribe and wait until the subscription listens (events published before that are not delivered)."""
    channel = organization_channel(organization_id)
    before = broker.subscriber_count(channel)
    op_id = await socket.subscribe(query, variables)
    await until(lambda: broker.subscriber_count(channel) > before)
    return op_id


async def test_staff_receive_status_changes_of_their_organization_only(
    app: Any, factory: Factory, sessions: Sessions, broker: Broker, emitted: Emitter
) -> None:
    tenant, rival = await factory.tenant(), await factory.tenant()
    estimate = await factory.estimate(tenant.contact_a, reference="PO-1")
    rival_estimate = await factory.estimate(rival.contact_a)
    async with in_process(app, await sessions.staff(tenant.owner)) as ws:
        await subscribed(ws, broker, tenant.org.pk, STATUS)
        # an event of another organization, even published on this organization's channel, is not delivered
        await emitted(tenant.org.pk, status_event(rival_estimate, "SENT", "ACCEPTED"))
        await emitted(rival.org.pk, status_event(rival_estimate, "SENT", "ACCEPTED"))
        await emitted(
            tenant.org.pk, status_event(estimate, "SENT", "ACCEPTED", actor_contact_person_id=tenant.person_a.pk)
        )
        assert await ws.next_data() == {
            "documentStatusChanged": {
                "document": {
                    "__typename": "Estimate",
                    "id": estimate.gid,
                    "number": estimate.number,
                    "reference": "PO-1",
                    "contact": {"displayName": tenant.contact_a.display_name},
                },
                "previousStatus": "SENT",
                "status": "ACCEPTED",
                "actor": {"__typename": "ContactPerson", "name": f"{tenant.person_a.first_name} Tester"},
            }
        }
        await ws.silent()


async def test_portal_users_receive_status_changes_of_their_own_contacts_visible_documents(
    app: Any, factory: Factory, sessions: Sessions, broker: Broker, emitted: Emitter
) -> None:
    tenant = await factory.tenant()
    mine = await factory.invoice(tenant.contact_a)
    my_draft = await factory.invoice(tenant.contact_a, status="DRAFT")
    theirs = await factory.invoice(tenant.contact_b)
    async with in_process(app, await sessions.portal(tenant.person_a)) as ws:
        await subscribed(ws, broker, tenant.org.pk, STATUS)
        await emitted(
            tenant.org.pk,
            status_event(theirs, "SENT", "PAID"),
            status_event(my_draft, None, "DRAFT", actor_staff_id=tenant.owner.pk),
            status_event(mine, "DRAFT", "SENT", actor_staff_id=tenant.owner.pk),
        )
        data = await ws.next_data()
        assert data["documentStatusChanged"]["document"]["id"] == mine.gid
        assert data["documentStatusChanged"]["status"] == "SENT"
        assert data["documentStatusChanged"]["actor"] is None  # staff users are not visible in the portal
        await ws.silent()


async def test_document_viewed_tells_staff_who_viewed_what_and_when(
    app: Any, factory: Factory, sessions: Sessions, broker: Broker, emitted: Emitter
) -> None:
    tenant = await factory.tenant()
    invoice = await factory.invoice(tenant.contact_a)
    viewed_at = dt.datetime(2026, 11, 25, 9, 30, tzinfo=dt.UTC)
    async with in_process(app, await sessions.staff(tenant.owner)) as ws:
        await subscribed(ws, broker, tenant.org.pk, VIEWED)
        await emitted(
            tenant.org.pk, DocumentViewed("INVOICE", invoice.pk, tenant.contact_a.pk, tenant.person_a.pk, viewed_at)
        )
        assert await ws.next_data() == {
            "documentViewed": {
                "document": {"__typename": "Invoice", "id": invoice.gid},
                "viewedBy": {
                    "id": tenant.person_a.gid,
                    "name": f"{tenant.person_a.first_name} Tester",
                    "avatarUrl": gravatar_url(tenant.person_a.email),
                },
                "viewedAt": "2026-11-25T09:30:00+00:00",
            }
        }


async def test_staff_only_fields_refuse_portal_users(app: Any, factory: Factory, sessions: Sessions) -> None:
    tenant = await factory.tenant()
    async with in_process(app, await sessions.portal(tenant.person_a)) as ws:
        for query in (VIEWED, PAYMENTS):
            op_id = await ws.subscribe(query)
            message = await ws.receive()
            assert message["id"] == op_id and message["type"] == "error"
            assert [error["extensions"]["code"] for error in message["payload"]] == ["FORBIDDEN"]


async def test_comments_reach_staff_all_and_portal_users_only_what_they_may_see(
    app: Any, factory: Factory, sessions: Sessions, broker: Broker, emitted: Emitter
) -> None:
    tenant = await factory.tenant()
    estimate = await factory.estimate(tenant.contact_a)
    other_estimate = await factory.estimate(tenant.contact_b)
    staff_only = await factory.comment(estimate, staff=tenant.owner, body="internal", visible=False)
    shared = await factory.comment(estimate, staff=tenant.owner, body="for the client", visible=True)
    from_client = await factory.comment(estimate, person=tenant.person_a, body="question")
    other_contacts = await factory.comment(other_estimate, person=tenant.person_b, body="not yours")
    comments = [staff_only, shared, from_client, other_contacts]
    async with (
        in_process(app, await sessions.staff(tenant.owner)) as staff_ws,
        in_process(app, await sessions.portal(tenant.person_a)) as portal_ws,
    ):
        await subscribed(staff_ws, broker, tenant.org.pk, COMMENTS)
        await subscribed(portal_ws, broker, tenant.org.pk, COMMENTS)
        await emitted(tenant.org.pk, *(CommentAdded(comment.pk, comment.contact_id) for comment in comments))
        staff_got = [(await staff_ws.next_data())["commentAdded"]["body"] for _ in comments]
        assert staff_got == ["internal", "for the client", "question", "not yours"]
        portal_got = [(await portal_ws.next_data())["commentAdded"] for _ in range(2)]
        assert [(c["body"], c["authorKind"]) for c in portal_got] == [
            ("for the client", "STAFF"),
            ("question", "CLIENT"),
        ]
        await portal_ws.silent()


async def test_comment_added_with_a_target_only_streams_that_targets_comments(
    app: Any, factory: Factory, sessions: Sessions, broker: Broker, emitted: Emitter
) -> None:
    tenant = await factory.tenant()
    estimate = await factory.estimate(tenant.contact_a)
    project = await factory.project(tenant.contact_a)
    on_estimate = await factory.comment(estimate, person=tenant.person_a, body="on the estimate")
    on_project = await factory.comment(project, person=tenant.person_a, body="on the project")
    async with in_process(app, await sessions.portal(tenant.person_a)) as ws:
        await subscribed(ws, broker, tenant.org.pk, COMMENTS, target=project.gid)
        await emitted(
            tenant.org.pk,
            CommentAdded(on_estimate.pk, tenant.contact_a.pk),
            CommentAdded(on_project.pk, tenant.contact_a.pk),
        )
        assert (await ws.next_data())["commentAdded"]["body"] == "on the project"
        await ws.silent()
        # and an unfiltered subscriber is told each comment's thread
        await subscribed(ws, broker, tenant.org.pk, "subscription { commentAdded { body targetId } }")
        await emitted(tenant.org.pk, CommentAdded(on_estimate.pk, tenant.contact_a.pk))
        assert (await ws.next_data())["commentAdded"] == {"body": "on the estimate", "targetId": estimate.gid}


async def test_comment_added_refuses_targets_the_subscriber_cannot_see(
    app: Any, factory: Factory, sessions: Sessions
) -> None:
    tenant, rival = await factory.tenant(), await factory.tenant()
    theirs = await factory.estimate(tenant.contact_b)
    my_draft = await factory.invoice(tenant.contact_a, status="DRAFT")
    rival_estimate = await factory.estimate(rival.contact_a)
    cases = [
        (await sessions.portal(tenant.person_a), theirs.gid),
        (await sessions.portal(tenant.person_a), my_draft.gid),
        (await sessions.staff(tenant.owner), rival_estimate.gid),
        (await sessions.staff(tenant.owner), to_global_id("Payment", 1)),
        (await sessions.staff(tenant.owner), "not-an-id"),
    ]
    for token, target in cases:
        async with in_process(app, token) as ws:
            await ws.subscribe(COMMENTS, {"target": target})
            message = await ws.receive()
            assert message["type"] == "error", message
            assert message["payload"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_payment_received_reaches_staff_with_allocations_read_now(
    app: Any, factory: Factory, sessions: Sessions, broker: Broker, emitted: Emitter
) -> None:
    tenant, rival = await factory.tenant(), await factory.tenant()
    invoice = await factory.invoice(tenant.contact_a)
    payment = await factory.payment(tenant.contact_a, [(invoice, Decimal("40.00"))])
    rival_invoice = await factory.invoice(rival.contact_a)
    rival_payment = await factory.payment(rival.contact_a, [(rival_invoice, Decimal("1.00"))])
    async with in_process(app, await sessions.staff(tenant.owner)) as ws:
        await subscribed(ws, broker, tenant.org.pk, PAYMENTS)
        await emitted(
            tenant.org.pk,
            PaymentReceived(rival_payment.pk, rival.contact_a.pk),
            PaymentReceived(payment.pk, tenant.contact_a.pk),
        )
        assert await ws.next_data() == {
            "paymentReceived": {
                "id": payment.gid,
                "amount": "40.00",
                "allocations": [{"amount": "40.00", "invoice": {"id": invoice.gid, "balanceDue": "60.00"}}],
            }
        }
        await ws.silent()


async def test_every_event_is_read_fresh_not_from_the_connections_cache(
    app: Any, db: Database, factory: Factory, sessions: Sessions, broker: Broker, emitted: Emitter
) -> None:
    tenant = await factory.tenant()
    estimate = await factory.estimate(tenant.contact_a, reference="first")
    async with in_process(app, await sessions.staff(tenant.owner)) as ws:
        # a query over the same socket fills the connection's own loaders
        await ws.subscribe("query($id: ID!) { estimate(id: $id) { contact { displayName } } }", {"id": estimate.gid})
        assert (await ws.next_data())["estimate"]["contact"]["displayName"] == tenant.contact_a.display_name
        assert (await ws.receive())["type"] == "complete"
        await subscribed(ws, broker, tenant.org.pk, STATUS)
        await emitted(tenant.org.pk, status_event(estimate, "SENT", "ACCEPTED"))
        assert (await ws.next_data())["documentStatusChanged"]["document"]["reference"] == "first"
        async with db.transaction() as session:
            await session.execute(update(T_ESTIMATE).where(T_ESTIMATE.c.id == estimate.pk).values(reference="second"))
            await session.execute(
                update(T_CONTACT).where(T_CONTACT.c.id == tenant.contact_a.pk).values(display_name="Renamed Ltd")
            )
        await emitted(tenant.org.pk, status_event(estimate, "ACCEPTED", "INVOICED"))
        document = (await ws.next_data())["documentStatusChanged"]["document"]
        assert (document["reference"], document["contact"]["displayName"]) == ("second", "Renamed Ltd")


async def test_a_session_that_ended_gets_no_event_and_its_socket_closes(
    app: Any, db: Database, factory: Factory, sessions: Sessions, broker: Broker, emitted: Emitter
) -> None:
    tenant = await factory.tenant()
    estimate = await factory.estimate(tenant.contact_a)
    token = await sessions.portal(tenant.person_a)
    async with in_process(app, token) as ws:
        await subscribed(ws, broker, tenant.org.pk, STATUS)
        # revoked in the database without the usual broadcast (another path, a crashed process): the per-event
        # re-check still stops delivery
        async with db.transaction() as session:
            await session.execute(update(AuthSession).values(revoked_at=dt.datetime.now(dt.UTC)))
        await emitted(tenant.org.pk, status_event(estimate, "SENT", "ACCEPTED"))
        closed = await ws.closed()
        assert closed.code == 4403


async def test_subscribers_with_the_same_scope_share_the_reads_of_an_event(
    app: Any, db: Database, factory: Factory, sessions: Sessions, broker: Broker, emitted: Emitter
) -> None:
    tenant = await factory.tenant()
    estimate = await factory.estimate(tenant.contact_a)

    async def statements_to_deliver(subscribers: int) -> int:
        tokens = [await sessions.staff(tenant.owner) for _ in range(subscribers)]
        sockets = [in_process(app, token) for token in tokens]
        opened = [await socket.__aenter__() for socket in sockets]
        try:
            for ws in opened:
                await subscribed(ws, broker, tenant.org.pk, STATUS)
            count = 0

            def counter(*_: Any) -> None:
                nonlocal count
                count += 1

            event.listen(db.engine.sync_engine, "before_cursor_execute", counter)
            try:
                await emitted(tenant.org.pk, status_event(estimate, "SENT", "ACCEPTED"))
                for ws in opened:
                    await ws.next_data()
            finally:
                event.remove(db.engine.sync_engine, "before_cursor_execute", counter)
            return count
        finally:
            for socket in reversed(sockets):
                await socket.__aexit__(None, None, None)

    one = await statements_to_deliver(1)
    assert await statements_to_deliver(12) == one  # sessions batched in one query, rows read once per scope


async def test_completing_a_subscription_releases_its_channel(
    app: Any, factory: Factory, sessions: Sessions, broker: Broker
) -> None:
    tenant = await factory.tenant()
    channel = organization_channel(tenant.org.pk)
    async with in_process(app, await sessions.staff(tenant.owner)) as ws:
        op_id = await subscribed(ws, broker, tenant.org.pk, STATUS)
        await ws.complete(op_id)
        await until(lambda: broker.subscriber_count(channel) == 0)


def status_event(document: Any, previous: str | None, status: str, **actor: int) -> DocumentStatusChanged:
    kind = "ESTIMATE" if "expiry_date" in document.values else "INVOICE"
    return DocumentStatusChanged(kind, document.pk, document.contact_id, previous, status, **actor)


async def test_subscribers_of_one_event_with_different_scopes_each_get_their_own_answer(
    app: Any, factory: Factory, sessions: Sessions, broker: Broker, emitted: Emitter
) -> None:
    tenant = await factory.tenant()
    estimate = await factory.estimate(tenant.contact_a)
    async with (
        in_process(app, await sessions.staff(tenant.owner)) as staff_ws,
        in_process(app, await sessions.staff(tenant.owner)) as same_staff_ws,
        in_process(app, await sessions.portal(tenant.person_a)) as portal_ws,
    ):
        for ws in (staff_ws, same_staff_ws, portal_ws):
            await subscribed(ws, broker, tenant.org.pk, STATUS)
        await emitted(tenant.org.pk, status_event(estimate, "DRAFT", "SENT", actor_staff_id=tenant.owner.pk))
        staff_answer = await staff_ws.next_data()
        assert staff_answer["documentStatusChanged"]["actor"] == {"__typename": "StaffUser", "name": tenant.owner.name}
        assert await same_staff_ws.next_data() == staff_answer
        assert (await portal_ws.next_data())["documentStatusChanged"]["actor"] is None
