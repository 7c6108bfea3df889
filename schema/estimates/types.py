"""Estimates."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import strawberry

from models import estimates
from schema.base import DateRange, StaffOnly, from_columns
from schema.contacts.types import ContactPerson
from schema.documents.types import Document, document_values

EstimateStatus = strawberry.enum(
    estimates.EstimateStatus,
    description="Lifecycle of an estimate. EXPIRED is derived: a SENT estimate past its expiry date.",
)


@strawberry.input
class EstimateFilter:
    status: list[EstimateStatus] | None = strawberry.field(default=None, description="Any of these statuses.")
    date_range: DateRange | None = strawberry.field(default=None, description="Issue date range.")
    search: str | None = strawberry.field(default=None, description="Part of the number or reference.")
    contact_id: strawberry.ID | None = strawberry.field(default=None, description="Staff: one contact's estimates.")


@strawberry.type
class Estimate(Document):
    reference: str | None
    status: EstimateStatus
    issue_date: dt.date
    expiry_date: dt.date | None
    subtotal: Decimal
    tax_total: Decimal
    notes: str | None
    terms: str | None
    sent_at: dt.datetime | None
    accepted_at: dt.datetime | None
    signature_name: str | None
    declined_at: dt.datetime | None
    decline_reason: str | None
    created_at: dt.datetime
    viewed_by_id: strawberry.Private[int | None]
    accepted_by_id: strawberry.Private[int | None]
    accepted_from: strawberry.Private[str | None]

    @strawberry.field(description="The portal user who accepted it.")
    async def accepted_by(self, info: strawberry.Info) -> ContactPerson | None:
        pk = self.accepted_by_id
        return await info.context.loaders.contact_person.load(pk) if pk else None

    @strawberry.field(
        description="The address the estimate was accepted from. Staff only: null in the portal.",
        extensions=[StaffOnly()],
    )
    def accepted_ip(self) -> str | None:
        return self.accepted_from

    @staticmethod
    def from_row(row: Any) -> Estimate:
        return from_columns(
            Estimate,
            row,
            **document_values(row),
            status=EstimateStatus(row.effective_status),
            accepted_from=str(row.accepted_ip) if row.accepted_ip is not None else None,
        )
