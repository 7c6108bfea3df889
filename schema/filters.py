"""List filters."""

from __future__ import annotations

import strawberry

from schema.base import DateRange
from schema.enums import EstimateStatus, InvoiceKind, InvoiceStatus, PaymentMode, PaymentStatus, ProjectStatus


@strawberry.input
class ContactFilter:
    search: str | None = strawberry.field(default=None, description="Part of the display or company name, or email.")


@strawberry.input
class EstimateFilter:
    status: list[EstimateStatus] | None = strawberry.field(default=None, description="Any of these statuses.")
    date_range: DateRange | None = strawberry.field(default=None, description="Issue date range.")
    search: str | None = strawberry.field(default=None, description="Part of the number or reference.")
    contact_id: strawberry.ID | None = strawberry.field(default=None, description="Staff: one contact's estimates.")


@strawberry.input
class InvoiceFilter:
    status: list[InvoiceStatus] | None = strawberry.field(default=None, description="Any of these statuses.")
    kind: InvoiceKind | None = None
    date_range: DateRange | None = strawberry.field(default=None, description="Issue date range.")
    search: str | None = strawberry.field(default=None, description="Part of the number or reference.")
    contact_id: strawberry.ID | None = strawberry.field(default=None, description="Staff: one contact's invoices.")


@strawberry.input
class PaymentFilter:
    status: list[PaymentStatus] | None = None
    mode: list[PaymentMode] | None = None
    date_range: DateRange | None = strawberry.field(default=None, description="Payment date range.")
    contact_id: strawberry.ID | None = strawberry.field(default=None, description="Staff: one contact's payments.")


@strawberry.input
class ProjectFilter:
    status: list[ProjectStatus] | None = None
    search: str | None = None
    contact_id: strawberry.ID | None = strawberry.field(default=None, description="Staff: one contact's projects.")
