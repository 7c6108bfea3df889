"""Live document events: a document viewed (staff), a document's status changed (staff and portal)."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import strawberry

from core.context import Context
from resolvers.loaders import Loaders
from schema.access.types import StaffUser
from schema.contacts.types import ContactPerson
from schema.documents.events import DocumentStatus, DocumentStatusEvent, DocumentViewedEvent
from schema.estimates.types import Estimate
from schema.invoices.types import Invoice
from subscriptions.live import Live, live
from subscriptions.streams import ScopedEvent

DOCUMENT_VIEWED = frozenset({"DocumentViewed"})
DOCUMENT_STATUS_CHANGED = frozenset({"DocumentStatusChanged"})


async def load_document(loaders: Loaders, payload: dict[str, Any]) -> Estimate | Invoice | None:
    loader = loaders.estimate if payload.get("document_type") == "ESTIMATE" else loaders.invoice
    return await loader.load(int(payload["document_id"]))


async def load_actor(loaders: Loaders, payload: dict[str, Any]) -> StaffUser | ContactPerson | None:
    if payload.get("actor_staff_id"):
        return await loaders.staff_user.load(int(payload["actor_staff_id"]))
    if payload.get("actor_contact_person_id"):
        return await loaders.contact_person.load(int(payload["actor_contact_person_id"]))
    return None


async def _viewed(event: ScopedEvent) -> DocumentViewedEvent | None:
    payload = event.payload
    document = await load_document(event.loaders, payload)
    person = await event.loaders.contact_person.load(int(payload["contact_person_id"]))
    if document is None or person is None:
        return None
    viewed_at = dt.datetime.fromisoformat(payload["viewed_at"])
    return DocumentViewedEvent(document=document, viewed_by=person, viewed_at=viewed_at)


async def _status_changed(event: ScopedEvent) -> DocumentStatusEvent | None:
    payload = event.payload
    document = await load_document(event.loaders, payload)
    if document is None:
        return None
    previous = payload.get("previous_status")
    return DocumentStatusEvent(
        document=document,
        previous_status=DocumentStatus(previous) if previous else None,
        status=DocumentStatus(payload["status"]),
        actor=await load_actor(event.loaders, payload),
    )


@strawberry.type
class Subscription:
    # The field checks the viewer (and its arguments) before returning its stream, so a refusal is the protocol's
    # `error` message for the operation rather than a `next` carrying errors. Payloads are built once per event and
    # scope and executed once per audience (``subscriptions.audiences``); None means the subscriber may not see it.

    @strawberry.subscription(description="Staff: a portal user opened one of the organization's documents.")
    async def document_viewed(self, info: strawberry.Info) -> AsyncIterator[DocumentViewedEvent]:
        ctx: Context = info.context
        ctx.require_staff()
        return live(info, Live("documentViewed", DOCUMENT_VIEWED, _viewed))

    @strawberry.subscription(
        description="An estimate or invoice was sent, accepted, declined, paid or voided: staff, for their "
        "organization; portal users, for their own contact's documents."
    )
    async def document_status_changed(self, info: strawberry.Info) -> AsyncIterator[DocumentStatusEvent]:
        ctx: Context = info.context
        ctx.require_viewer()
        return live(info, Live("documentStatusChanged", DOCUMENT_STATUS_CHANGED, _status_changed))
