"""acceptEstimate and declineEstimate: the client answers a SENT estimate; exactly one answer wins."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from sqlalchemy import select

from core.database import Database
from core.scope import T_ACTIVITY, T_ESTIMATE
from tests.client import GraphQLClient
from tests.factories import Factory
from tests.invoice.helpers import SEND_ESTIMATE, UPDATE_ESTIMATE, snapshot
from tests.portal.conftest import World, published, result_of

FIELDS = """__typename
  ... on Estimate { id status acceptedAt acceptedIp signatureName declinedAt declineReason
                    acceptedBy { id } activity { kind description } }"""
ACCEPT = f"""mutation($id: ID!, $signatureName: String) {{ acceptEstimate(id: $id, signatureName: $signatureName) {{
  {FIELDS} ... on AcceptEstimateError {{ code field }} }} }}"""
DECLINE = f"""mutation($id: ID!, $reason: String) {{ declineEstimate(id: $id, reason: $reason) {{
  {FIELDS} ... on DeclineEstimateError {{ code field }} }} }}"""
STAFF_ESTIMATE = "query($id: ID!) { estimate(id: $id) { status acceptedIp activity { kind } } }"


async def test_client_accepts_a_sent_estimate(gql: GraphQLClient, factory: Factory, world: World, app: object) -> None:
    # given a SENT, unexpired estimate of the client's contact
    estimate = await factory.estimate(world.ours.contact_a)
    # when the client accepts it with a typed signature
    async with published(app, world.ours.org.pk) as events:
        accepted = result_of(
            await gql(ACCEPT, {"id": estimate.gid, "signatureName": "  Ada Client "}, as_=world.client)
        )
    # then it is ACCEPTED, records who, when and the signature, and the client-safe history shows it
    assert accepted["__typename"] == "Estimate"
    assert accepted["status"] == "ACCEPTED"
    assert accepted["acceptedBy"]["id"] == world.ours.person_a.gid
    assert accepted["signatureName"] == "Ada Client"
    assert accepted["acceptedAt"] is not None
    assert accepted["acceptedIp"] is None  # the address is for staff
    assert accepted["activity"][-1]["kind"] == "accepted"
    # and staff see the address it came from
    staff_view = (await gql(STAFF_ESTIMATE, {"id": estimate.gid}, as_=world.staff))["estimate"]
    assert staff_view["acceptedIp"] == "127.0.0.1"
    # and one DocumentStatusChanged was published after commit
    assert [(e["type"], e["document_id"], e["previous_status"], e["status"]) for e in events] == [
        ("DocumentStatusChanged", estimate.pk, "SENT", "ACCEPTED")
    ]
    assert events[0]["actor_contact_person_id"] == world.ours.person_a.pk


async def test_client_declines_with_a_reason(gql: GraphQLClient, factory: Factory, world: World, app: object) -> None:
    estimate = await factory.estimate(world.ours.contact_a)
    async with published(app, world.ours.org.pk) as events:
        declined = result_of(await gql(DECLINE, {"id": estimate.gid, "reason": "Too expensive"}, as_=world.client))
    assert (declined["status"], declined["declineReason"]) == ("DECLINED", "Too expensive")
    assert declined["declinedAt"] is not None
    assert declined["activity"][-1]["kind"] == "declined"
    assert [(e["type"], e["status"]) for e in events] == [("DocumentStatusChanged", "DECLINED")]


async def test_decline_without_a_reason(gql: GraphQLClient, factory: Factory, world: World) -> None:
    estimate = await factory.estimate(world.ours.contact_a)
    declined = result_of(await gql(DECLINE, {"id": estimate.gid}, as_=world.client))
    assert (declined["status"], declined["declineReason"]) == ("DECLINED", None)


@pytest.mark.parametrize("mutation", [ACCEPT, DECLINE])
async def test_an_expired_estimate_cannot_be_answered(
    gql: GraphQLClient, factory: Factory, world: World, db: Database, mutation: str
) -> None:
    # given a SENT estimate whose expiry date has passed (it shows as EXPIRED)
    estimate = await factory.estimate(world.ours.contact_a, expiry_date=dt.date.today() - dt.timedelta(days=1))
    before = await snapshot(db, T_ESTIMATE)
    # when the client answers it
    result = result_of(await gql(mutation, {"id": estimate.gid}, as_=world.client))
    # then EXPIRED, and nothing changed
    assert (result["code"], result["field"]) == ("EXPIRED", "id")
    assert await snapshot(db, T_ESTIMATE) == before


async def test_an_estimate_expiring_today_can_still_be_accepted(
    gql: GraphQLClient, factory: Factory, world: World
) -> None:
    estimate = await factory.estimate(world.ours.contact_a, expiry_date=dt.date.today())
    assert result_of(await gql(ACCEPT, {"id": estimate.gid}, as_=world.client))["status"] == "ACCEPTED"


@pytest.mark.parametrize("status", ["ACCEPTED", "DECLINED", "INVOICED"])
@pytest.mark.parametrize("mutation", [ACCEPT, DECLINE])
async def test_only_a_sent_estimate_can_be_answered(
    gql: GraphQLClient, factory: Factory, world: World, mutation: str, status: str
) -> None:
    estimate = await factory.estimate(world.ours.contact_a, status=status)
    result = result_of(await gql(mutation, {"id": estimate.gid}, as_=world.client))
    assert (result["code"], result["field"]) == ("INVALID_STATE", "id")


@pytest.mark.parametrize("mutation", [ACCEPT, DECLINE])
async def test_drafts_other_contacts_and_other_organizations_are_not_found(
    gql: GraphQLClient, factory: Factory, world: World, db: Database, mutation: str
) -> None:
    # given a draft of the client's contact, a sent estimate of another contact and one of another organization
    draft = await factory.estimate(world.ours.contact_a, status="DRAFT")
    other_contact = await factory.estimate(world.ours.contact_b)
    other_org = await factory.estimate(world.theirs.contact_a)
    before = await snapshot(db, T_ESTIMATE)
    # when the client (and the rival's client) try to answer them, or pass ids that name nothing
    attempts = [
        (draft.gid, world.client),
        (other_contact.gid, world.client),
        (other_org.gid, world.client),
        (draft.gid, world.rival_client),
        (world.ours.contact_a.gid, world.client),
        ("garbage", world.client),
    ]
    for gid, token in attempts:
        result = result_of(await gql(mutation, {"id": gid}, as_=token))
        # then each behaves as if it did not exist
        assert (result["code"], result["field"]) == ("NOT_FOUND", "id"), gid
    assert await snapshot(db, T_ESTIMATE) == before


@pytest.mark.parametrize("mutation", [ACCEPT, DECLINE])
async def test_staff_and_anonymous_cannot_answer_for_the_client(
    gql: GraphQLClient, factory: Factory, world: World, mutation: str
) -> None:
    estimate = await factory.estimate(world.ours.contact_a)
    assert (await gql.raw(mutation, {"id": estimate.gid}, as_=world.staff)).error_codes == ["FORBIDDEN"]
    assert (await gql.raw(mutation, {"id": estimate.gid})).error_codes == ["UNAUTHENTICATED"]


async def test_signature_and_reason_are_limited(gql: GraphQLClient, factory: Factory, world: World) -> None:
    estimate = await factory.estimate(world.ours.contact_a)
    accept = result_of(await gql(ACCEPT, {"id": estimate.gid, "signatureName": "x" * 201}, as_=world.client))
    decline = result_of(await gql(DECLINE, {"id": estimate.gid, "reason": "x" * 5001}, as_=world.client))
    assert (accept["code"], accept["field"]) == ("INVALID_INPUT", "signatureName")
    assert (decline["code"], decline["field"]) == ("INVALID_INPUT", "reason")


async def test_concurrent_accept_and_decline_exactly_one_wins(
    gql: GraphQLClient, factory: Factory, world: World, db: Database
) -> None:
    # given several SENT estimates, each answered at the same moment by two portal persons of the contact
    estimates = [await factory.estimate(world.ours.contact_a) for _ in range(6)]
    for estimate in estimates:
        # when one accepts while the other declines, in parallel requests
        accept, decline = await asyncio.gather(
            gql(ACCEPT, {"id": estimate.gid}, as_=world.client),
            gql(DECLINE, {"id": estimate.gid, "reason": "No"}, as_=world.colleague_token),
        )
        outcomes = [result_of(accept), result_of(decline)]
        # then exactly one of them wins and the other sees INVALID_STATE
        winners = [o for o in outcomes if o["__typename"] == "Estimate"]
        losers = [o for o in outcomes if o["__typename"] != "Estimate"]
        assert len(winners) == 1 and len(losers) == 1
        assert losers[0]["code"] == "INVALID_STATE"
        # and the row and its history agree with the winner: one answer, recorded once
        async with db.session() as session:
            row = (await session.execute(select(T_ESTIMATE).where(T_ESTIMATE.c.id == estimate.pk))).one()
            kinds = (
                await session.scalars(
                    select(T_ACTIVITY.c.kind).where(
                        T_ACTIVITY.c.estimate_id == estimate.pk, T_ACTIVITY.c.kind.in_(("accepted", "declined"))
                    )
                )
            ).all()
        assert row.status == winners[0]["status"]
        assert (row.accepted_at is None) == (row.status == "DECLINED")
        assert (row.declined_at is None) == (row.status == "ACCEPTED")
        assert kinds == [row.status.lower()]


async def test_a_declined_estimate_revised_and_sent_again_is_back_in_front_of_the_client(
    gql: GraphQLClient, factory: Factory, world: World
) -> None:
    # given an estimate the client declined
    estimate = await factory.estimate(world.ours.contact_a)
    await gql(DECLINE, {"id": estimate.gid, "reason": "Over budget"}, as_=world.client)
    # when staff revise it (it becomes a draft the client cannot see) and send it again
    revised = result_of(
        await gql(UPDATE_ESTIMATE, {"input": {"id": estimate.gid, "notes": "Cheaper"}}, as_=world.staff)
    )
    assert revised["status"] == "DRAFT"
    hidden = await gql("query($id: ID!) { estimate(id: $id) { id } }", {"id": estimate.gid}, as_=world.client)
    assert hidden["estimate"] is None
    sent = result_of(await gql(SEND_ESTIMATE, {"id": estimate.gid}, as_=world.staff))
    assert sent["status"] == "SENT"
    # then the client sees it SENT, without the old decline, and can accept it
    accepted = result_of(await gql(ACCEPT, {"id": estimate.gid}, as_=world.client))
    assert (accepted["status"], accepted["declineReason"], accepted["declinedAt"]) == ("ACCEPTED", None, None)
    kinds = [entry["kind"] for entry in accepted["activity"]]
    assert kinds == ["declined", "sent", "accepted"]  # the client-safe history (revisions are staff-only)
