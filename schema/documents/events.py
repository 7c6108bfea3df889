"""Payloads of the document subscriptions: what happened, with the objects re-read for you."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

import strawberry

from models.estimates import EstimateStatus
from models.invoices import InvoiceStatus
from schema.access.types import Viewer
from schema.contacts.types import ContactPerson
from schema.documents.types import Document

# every value of both vocabularies, so any status a document reaches can be published
DocumentStatus = strawberry.enum(
    StrEnum("DocumentStatus", {status.name: status.value for status in (*EstimateStatus, *InvoiceStatus)}),
    description="The status of an estimate or an invoice: the values of EstimateStatus and InvoiceStatus.",
)


@strawberry.type(description="A portal user opened an estimate or an invoice.")
class DocumentViewedEvent:
    document: Document = strawberry.field(description="The estimate or invoice, as it is now.")
    viewed_by: ContactPerson = strawberry.field(description="Who opened it (see `name` and `avatarUrl`).")
    viewed_at: dt.datetime


@strawberry.type(description="An estimate or an invoice changed status: sent, accepted, declined, paid, voided.")
class DocumentStatusEvent:
    document: Document = strawberry.field(description="The estimate or invoice, as it is now.")
    previous_status: DocumentStatus | None = strawberry.field(description="Null when the document was just created.")
    status: DocumentStatus = strawberry.field(description="The status the change led to.")
    actor: Viewer | None = strawberry.field(
        description="Who made the change; null for the system (a gateway, a scheduled job) or when you may not "
        "see them (staff users, for portal subscribers)."
    )
