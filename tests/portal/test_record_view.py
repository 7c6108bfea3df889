"""recordView: the first portal view marks a document viewed; later views only add history; staff never count."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from core.database import Database
from core.scope import T_ACTIVITY, T_ESTIMATE, T_INVOICE
from tests.client import GraphQLClient
from tests.factories import Factory
from tests.invoice.helpers import snapshot
from tests.portal.conftest import World, published, result_of

RECORD_VIEW = """mutation($id: ID!) { recordView(id: $id) { __typename
  ... on Estimate { id viewed viewedAt viewedBy { id } }
  ... on Invoice { id viewed viewedAt viewedBy { id } }
  ... on RecordViewError { code field } } }"""


async def _history(db: Database, column: str, pk: int) -> list[tuple[str, bool, int | None]]:
    async with db.session() as session:
        rows = await session.execute(
            select(T_ACTIVITY.c.kind, T_ACTIVITY.c.client_visible, T_ACTIVITY.c.actor_contact_person_id)
            .where(T_ACTIVITY.c[column] == pk)
            .order_by(T_ACTIVITY.c.id)
        )
        return [tuple(row) for row in rows.all()]  # type: ignore[misc]


@pytest.mark.parametrize("kind", ["estimate", "invoice"])
async def test_first_view_marks_the_document_and_later_views_only_add_history(
    gql: GraphQLClient, factory: Factory, world: World, db: Database, app: object, kind: str
) -> None:
    # given a sent document nobody has opened
    document = await getattr(factory, kind)(world.ours.contact_a)
    # when the client opens it, and then a colleague of the same contact opens it too
    async with published(app, world.ours.org.pk) as events:
        first = result_of(await gql(RECORD_VIEW, {"id": document.gid}, as_=world.client))
        again = result_of(await gql(RECORD_VIEW, {"id": document.gid}, as_=world.colleague_token))
    # then the first view set viewed, viewedAt and viewedBy, and the second changed none of them
    assert first["viewed"] is True
    assert first["viewedBy"]["id"] == world.ours.person_a.gid
    assert (again["viewed"], again["viewedAt"], again["viewedBy"]) == (True, first["viewedAt"], first["viewedBy"])
    # and the history has one client-visible "viewed" and one staff-only "viewed_again"
    assert await _history(db, f"{kind}_id", document.pk) == [
        ("viewed", True, world.ours.person_a.pk),
        ("viewed_again", False, world.colleague.pk),
    ]
    # and only the first view published a DocumentViewed event
    assert [(e["type"], e["document_type"], e["document_id"], e["contact_person_id"]) for e in events] == [
        ("DocumentViewed", kind.upper(), document.pk, world.ours.person_a.pk)
    ]


async def test_staff_views_never_count(gql: GraphQLClient, factory: Factory, world: World, db: Database) -> None:
    # given a draft and a sent invoice
    draft = await factory.invoice(world.ours.contact_a, status="DRAFT")
    sent = await factory.estimate(world.ours.contact_a)
    before = await snapshot(db, T_ACTIVITY)
    # when staff open them
    for document in (draft, sent):
        result = result_of(await gql(RECORD_VIEW, {"id": document.gid}, as_=world.staff))
        # then they get the document back, still unviewed, and no history is written
        assert (result["id"], result["viewed"], result["viewedAt"]) == (document.gid, False, None)
    assert await snapshot(db, T_ACTIVITY) == before
    # and the client's later first view is still the first
    assert result_of(await gql(RECORD_VIEW, {"id": sent.gid}, as_=world.client))["viewed"] is True


async def test_two_first_views_at_once_make_exactly_one(
    gql: GraphQLClient, factory: Factory, world: World, db: Database
) -> None:
    invoice = await factory.invoice(world.ours.contact_a)
    await asyncio.gather(
        gql(RECORD_VIEW, {"id": invoice.gid}, as_=world.client),
        gql(RECORD_VIEW, {"id": invoice.gid}, as_=world.colleague_token),
    )
    kinds = sorted(kind for kind, _, _ in await _history(db, "invoice_id", invoice.pk))
    assert kinds == ["viewed", "viewed_again"]


async def test_invisible_documents_are_not_found(
    gql: GraphQLClient, factory: Factory, world: World, db: Database
) -> None:
    # given a draft of the client's contact, another contact's invoice and another organization's estimate
    draft = await factory.estimate(world.ours.contact_a, status="DRAFT")
    other_contact = await factory.invoice(world.ours.contact_b)
    other_org = await factory.estimate(world.theirs.contact_a)
    before = (await snapshot(db, T_ESTIMATE), await snapshot(db, T_INVOICE), await snapshot(db, T_ACTIVITY))
    attempts = [
        (draft.gid, world.client),
        (other_contact.gid, world.client),
        (other_org.gid, world.client),
        (other_org.gid, world.staff),  # staff of another organization
        (world.ours.contact_a.gid, world.client),  # not a document
        ("garbage", world.client),
    ]
    for gid, token in attempts:
        result = result_of(await gql(RECORD_VIEW, {"id": gid}, as_=token))
        assert (result["code"], result["field"]) == ("NOT_FOUND", "id"), gid
    # and nothing was marked or written
    assert before == (await snapshot(db, T_ESTIMATE), await snapshot(db, T_INVOICE), await snapshot(db, T_ACTIVITY))


async def test_anonymous_is_refused(gql: GraphQLClient, factory: Factory, world: World) -> None:
    invoice = await factory.invoice(world.ours.contact_a)
    assert (await gql.raw(RECORD_VIEW, {"id": invoice.gid})).error_codes == ["UNAUTHENTICATED"]
