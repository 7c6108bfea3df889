"""The dashboard: what a portal user (or, for staff, the whole organization) sees first."""

from __future__ import annotations

from decimal import Decimal

import strawberry

from schema.estimates.types import EstimateStatus
from schema.invoices.types import InvoiceKind, InvoiceStatus
from schema.payments.types import Payment


@strawberry.type(description="The `invoices(filter:)` values that list exactly what a dashboard figure counts.")
class InvoiceFilterValues:
    status: list[InvoiceStatus]
    kind: InvoiceKind | None


@strawberry.type(description="The `estimates(filter:)` values that list exactly what a dashboard figure counts.")
class EstimateFilterValues:
    status: list[EstimateStatus]


@strawberry.type(description="Outstanding invoices in one currency.")
class CurrencyTotal:
    currency: str
    total: Decimal = strawberry.field(description="Sum of the balances due.")
    count: int


@strawberry.type(description="Outstanding invoices of one kind, in the dashboard's currency.")
class OutstandingInvoices:
    total: Decimal = strawberry.field(description="Sum of the balances due.")
    count: int
    filter: InvoiceFilterValues


@strawberry.type(
    description=(
        "Outstanding money, the last payment and the estimates waiting for an answer. A portal user sees their "
        "contact's, staff their organization's. Totals are in `currency` (the contact's, or the organization's "
        "base currency for staff); `outstandingByCurrency` lists every currency."
    )
)
class Dashboard:
    currency: str
    outstanding_total: Decimal = strawberry.field(
        description="Balance due of regular invoices that are SENT, PARTIALLY_PAID or OVERDUE, in `currency`."
    )
    outstanding_count: int = strawberry.field(description="How many invoices `outstandingTotal` adds up.")
    outstanding_filter: InvoiceFilterValues = strawberry.field(description="Pass to `invoices(filter:)` to list them.")
    outstanding_by_currency: list[CurrencyTotal] = strawberry.field(
        description="Outstanding regular invoices per currency."
    )
    retainer_invoices: OutstandingInvoices = strawberry.field(description="Outstanding retainer invoices.")
    overdue: OutstandingInvoices = strawberry.field(
        description="Regular invoices past their due date with a balance (OVERDUE), in `currency`: part of "
        "`outstandingTotal`."
    )
    last_payment: Payment | None = strawberry.field(description="The latest payment (succeeded or pending).")
    estimates_awaiting_approval: int = strawberry.field(description="SENT estimates that have not expired.")
    estimates_awaiting_approval_filter: EstimateFilterValues = strawberry.field(
        description="Pass to `estimates(filter:)` to list them."
    )
