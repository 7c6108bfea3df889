"""``type Subscription``: live events for staff dashboards and the portal, authorized event by event.

Every field reads from ``subscriptions.streams.scoped_events`` (the subscriber's own organization channel, the
session re-checked, loaders fresh for each event) and re-reads the event's rows through the subscriber's scope
before yielding; an event whose rows the subscriber could not query is skipped.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import strawberry

from core.context import Context
from core.errors import TopLevelCode, top_level_error
from core.ids import from_global_id
from core.scope import T_COMMENT
from resolvers.dashboard.queries import build_dashboard
from resolvers.loaders import Loaders
from schema.access.types import StaffUser
from schema.contacts.types import ContactPerson
from schema.conversations.types import Comment
from schema.dashboard.types import Dashboard
from schema.documents.events import DocumentStatus, DocumentStatusEvent, DocumentViewedEvent
from schema.estimates.types import Estimate
from schema.invoices.types import Invoice
from schema.payments.types import Payment
from subscriptions.streams import ScopedEvent, scoped_events

DOCUMENT_VIEWED = frozenset({"DocumentViewed"})


COMMENT_ADDED = frozenset({"CommentAdded"})


DOCUMENT_STATUS_CHANGED = frozenset({"DocumentStatusChanged"})


PAYMENT_RECEIVED = frozenset({"PaymentReceived"})


# what a dashboard counts: outstanding invoices and their balances, estimates awaiting approval, the last payment
DASHBOARD_CHANGES = frozenset({"DocumentStatusChanged", "PaymentReceived"})


COMMENT_TARGETS = ("Estimate", "Invoice", "Project")


async def load_document(loaders: Loaders, payload: dict[str, Any]) -> Estimate | Invoice | None:
    loader = loaders.estimate if payload.get("document_type") == "ESTIMATE" else loaders.invoice
    return await loader.load(int(payload["document_id"]))


async def load_actor(loaders: Loaders, payload: dict[str, Any]) -> StaffUser | ContactPerson | None:
    if payload.get("actor_staff_id"):
        return await loaders.staff_user.load(int(payload["actor_staff_id"]))
    if payload.get("actor_contact_person_id"):
        return await loaders.contact_person.load(int(payload["actor_contact_person_id"]))
    return None


async def comment_target(event: ScopedEvent, comment_id: int) -> tuple[str, int] | None:
    """``(type, pk)`` of what the comment is on, read through the subscriber's scope (once per scope)."""

    async def read() -> tuple[str, int] | None:
        columns = (T_COMMENT.c.estimate_id, T_COMMENT.c.invoice_id, T_COMMENT.c.project_id)
        stmt = event.scope.select(T_COMMENT, *columns).where(T_COMMENT.c.id == comment_id)
        async with event.loaders.db.session() as session:
            row = (await session.execute(stmt)).one_or_none()
        if row is None:
            return None
        return next((kind, pk) for kind, pk in zip(COMMENT_TARGETS, row, strict=True) if pk is not None)

    return await event.memo(("comment_target", comment_id), read)


async def visible_target(ctx: Context, target_id: strawberry.ID) -> tuple[str, int]:
    """The ``(type, pk)`` of an estimate, invoice or project the subscriber may see; NOT_FOUND otherwise."""
    decoded = from_global_id(target_id)
    if decoded is not None and decoded[0] in COMMENT_TARGETS:
        kind, pk = decoded
        loaders = Loaders(ctx.db, ctx.scope)
        loader: Any = {"Estimate": loaders.estimate, "Invoice": loaders.invoice, "Project": loaders.project}[kind]
        if await loader.load(pk) is not None:
            return kind, pk
    raise top_level_error(TopLevelCode.NOT_FOUND, "No estimate, invoice or project with this id.", field="targetId")


async def visible_to_subscriber(event: ScopedEvent) -> bool:
    """Whether the event's object is one the subscriber may query (a change to it may change their dashboard)."""
    if event.payload["type"] == "PaymentReceived":
        return await event.loaders.payment.load(int(event.payload["payment_id"])) is not None
    return await load_document(event.loaders, event.payload) is not None


def _status(value: str | None) -> DocumentStatus | None:
    return DocumentStatus(value) if value else None


@strawberry.type
class Subscription:
    # Each field checks the viewer (and its arguments) before returning its stream, so a refusal is the
    # protocol's `error` message for the operation rather than a `next` carrying errors. Payloads are built
    # once per event and scope (``ScopedEvent.payload``); None means the subscriber may not see the event.

    @strawberry.subscription(description="Staff: a portal user opened one of the organization's documents.")
    async def document_viewed(self, info: strawberry.Info) -> AsyncIterator[DocumentViewedEvent]:
        ctx: Context = info.context
        ctx.require_staff()

        async def stream() -> AsyncIterator[DocumentViewedEvent]:
            async for event in scoped_events(ctx, DOCUMENT_VIEWED):

                async def build(event: ScopedEvent = event) -> DocumentViewedEvent | None:
                    payload = event.payload
                    document = await load_document(event.loaders, payload)
                    person = await event.loaders.contact_person.load(int(payload["contact_person_id"]))
                    if document is None or person is None:
                        return None
                    viewed_at = dt.datetime.fromisoformat(payload["viewed_at"])
                    return DocumentViewedEvent(document=document, viewed_by=person, viewed_at=viewed_at)

                if (viewed := await event.payload_for("documentViewed", build)) is not None:
                    yield viewed

        return stream()

    @strawberry.subscription(
        description="A new comment you may see: staff, any comment of the organization; portal users, comments "
        "visible in the portal on their own contact's documents and projects. With `targetId`, only comments on "
        "that estimate, invoice or project (NOT_FOUND when you may not see it)."
    )
    async def comment_added(
        self, info: strawberry.Info, target_id: strawberry.ID | None = None
    ) -> AsyncIterator[Comment]:
        ctx: Context = info.context
        ctx.require_viewer()
        target = await visible_target(ctx, target_id) if target_id is not None else None

        async def stream() -> AsyncIterator[Comment]:
            async for event in scoped_events(ctx, COMMENT_ADDED):
                comment_id = int(event.payload["comment_id"])

                async def build(event: ScopedEvent = event, comment_id: int = comment_id) -> Comment | None:
                    return await event.loaders.comment.load(comment_id)

                comment = await event.payload_for("commentAdded", build)
                if comment is None:
                    continue
                if target is not None and await comment_target(event, comment_id) != target:
                    continue
                yield comment

        return stream()

    @strawberry.subscription(
        description="An estimate or invoice was sent, accepted, declined, paid or voided: staff, for their "
        "organization; portal users, for their own contact's documents."
    )
    async def document_status_changed(self, info: strawberry.Info) -> AsyncIterator[DocumentStatusEvent]:
        ctx: Context = info.context
        ctx.require_viewer()

        async def stream() -> AsyncIterator[DocumentStatusEvent]:
            async for event in scoped_events(ctx, DOCUMENT_STATUS_CHANGED):

                async def build(event: ScopedEvent = event) -> DocumentStatusEvent | None:
                    payload = event.payload
                    document = await load_document(event.loaders, payload)
                    if document is None:
                        return None
                    return DocumentStatusEvent(
                        document=document,
                        previous_status=_status(payload.get("previous_status")),
                        status=DocumentStatus(payload["status"]),
                        actor=await load_actor(event.loaders, payload),
                    )

                if (changed := await event.payload_for("documentStatusChanged", build)) is not None:
                    yield changed

        return stream()

    @strawberry.subscription(description="Staff: a payment was recorded or received online.")
    async def payment_received(self, info: strawberry.Info) -> AsyncIterator[Payment]:
        ctx: Context = info.context
        ctx.require_staff()

        async def stream() -> AsyncIterator[Payment]:
            async for event in scoped_events(ctx, PAYMENT_RECEIVED):

                async def build(event: ScopedEvent = event) -> Payment | None:
                    return await event.loaders.payment.load(int(event.payload["payment_id"]))

                if (payment := await event.payload_for("paymentReceived", build)) is not None:
                    yield payment

        return stream()

    @strawberry.subscription(
        description="Portal users and staff: the `dashboard` again whenever something it counts changed (a document "
        "sent, accepted, declined, paid or voided; a payment), pushed only when it differs from the last one."
    )
    async def dashboard_updated(self, info: strawberry.Info) -> AsyncIterator[Dashboard]:
        ctx: Context = info.context
        ctx.require_viewer()

        async def stream() -> AsyncIterator[Dashboard]:
            last: Dashboard | None = None
            async for event in scoped_events(ctx, DASHBOARD_CHANGES):

                async def build(event: ScopedEvent = event) -> Dashboard | None:
                    if not await visible_to_subscriber(event):
                        return None
                    return await build_dashboard(event.loaders.db, event.scope)

                dashboard = await event.payload_for("dashboardUpdated", build)
                if dashboard is None or dashboard == last:
                    continue
                last = dashboard
                yield dashboard

        return stream()
