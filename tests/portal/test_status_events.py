"""DocumentStatusChanged and PaymentReceived from the staff flows, published after commit only."""

from __future__ import annotations

from decimal import Decimal

from core.ids import from_global_id
from tests.client import GraphQLClient
from tests.factories import Factory
from tests.invoice.helpers import RECORD_PAYMENT, SEND_ESTIMATE, SEND_INVOICE, VOID_INVOICE
from tests.portal.conftest import World, published, result_of

ACCEPT = "mutation($id: ID!) { acceptEstimate(id: $id) { __typename } }"


def changes(events: list[dict[str, object]]) -> list[tuple[object, ...]]:
    return [
        (e["type"], e.get("document_type"), e.get("document_id"), e.get("previous_status"), e.get("status"))
        for e in events
    ]


async def test_sending_publishes_a_status_change_the_first_time_only(
    gql: GraphQLClient, factory: Factory, world: World, app: object
) -> None:
    estimate = await factory.estimate(world.ours.contact_a, status="DRAFT")
    invoice = await factory.invoice(world.ours.contact_a, status="DRAFT")
    async with published(app, world.ours.org.pk) as events:
        for mutation, document in ((SEND_ESTIMATE, estimate), (SEND_INVOICE, invoice)):
            assert result_of(await gql(mutation, {"id": document.gid}, as_=world.staff))["status"] == "SENT"
            await gql(mutation, {"id": document.gid}, as_=world.staff)  # sent again: no status change
    assert changes(events) == [
        ("DocumentStatusChanged", "ESTIMATE", estimate.pk, "DRAFT", "SENT"),
        ("DocumentStatusChanged", "INVOICE", invoice.pk, "DRAFT", "SENT"),
    ]
    assert {e["actor_staff_id"] for e in events} == {world.ours.owner.pk}


async def test_voiding_and_payments_publish(gql: GraphQLClient, factory: Factory, world: World, app: object) -> None:
    doomed = await factory.invoice(world.ours.contact_a)
    first = await factory.invoice(world.ours.contact_a)  # 100.00 each
    second = await factory.invoice(world.ours.contact_a)
    payment = {
        "contactId": world.ours.contact_a.gid,
        "amount": "130.00",
        "mode": "CHECK",
        "allocations": [{"invoiceId": first.gid, "amount": "100.00"}, {"invoiceId": second.gid, "amount": "30.00"}],
    }
    async with published(app, world.ours.org.pk) as events:
        await gql(VOID_INVOICE, {"id": doomed.gid}, as_=world.staff)
        recorded = result_of(await gql(RECORD_PAYMENT, {"input": payment}, as_=world.staff))
    assert changes(events) == [
        ("DocumentStatusChanged", "INVOICE", doomed.pk, "SENT", "VOID"),
        ("DocumentStatusChanged", "INVOICE", first.pk, "SENT", "PAID"),
        ("DocumentStatusChanged", "INVOICE", second.pk, "SENT", "PARTIALLY_PAID"),
        ("PaymentReceived", None, None, None, None),
    ]
    assert events[-1]["payment_id"] == int(_pk(recorded["id"]))
    assert Decimal(recorded["amount"]) == Decimal("130.00")


async def test_failed_or_refused_actions_publish_nothing(
    gql: GraphQLClient, factory: Factory, world: World, app: object
) -> None:
    accepted = await factory.estimate(world.ours.contact_a, status="ACCEPTED")
    rival = await factory.invoice(world.theirs.contact_a, status="DRAFT")
    async with published(app, world.ours.org.pk) as ours, published(app, world.theirs.org.pk) as theirs:
        assert (
            result_of(await gql(ACCEPT, {"id": accepted.gid}, as_=world.client))["__typename"] == "AcceptEstimateError"
        )
        assert result_of(await gql(SEND_INVOICE, {"id": rival.gid}, as_=world.staff))["code"] == "NOT_FOUND"
    assert ours == [] and theirs == []


def _pk(global_id: str) -> int:
    decoded = from_global_id(global_id)
    assert decoded is not None
    return decoded[1]
