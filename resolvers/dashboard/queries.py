"""The ``dashboard`` query: a handful of aggregates, read through the viewer's scope in one session."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

import strawberry
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.context import Context
from core.database import Database
from core.money import quantize
from core.scope import T_CONTACT, T_ESTIMATE, T_INVOICE, T_ORGANIZATION, T_PAYMENT, Scope
from models.estimates import DASHBOARD_FIGURES
from models.invoices import OUTSTANDING_SHOWN, InvoiceKind, InvoiceStatus
from resolvers import reads
from resolvers.reads import invoice_status_in
from schema.dashboard.types import (
    CurrencyTotal,
    Dashboard,
    EstimateFilterValues,
    InvoiceFilterValues,
    OutstandingInvoices,
)
from schema.payments.types import Payment

LAST_PAYMENT_STATUSES = ("SUCCEEDED", "PENDING")


async def _currency(session: AsyncSession, scope: Scope) -> str:
    if scope.is_staff:
        stmt = scope.select(T_ORGANIZATION, T_ORGANIZATION.c.base_currency)
    else:
        stmt = scope.select(T_CONTACT, T_CONTACT.c.currency)
    return str(await session.scalar(stmt))


async def build_dashboard(db: Database, scope: Scope) -> Dashboard:
    """The dashboard of ``scope``'s viewer (also what a dashboardUpdated subscription pushes)."""
    overdue = invoice_status_in([InvoiceStatus.OVERDUE])
    outstanding = (
        scope.select(
            T_INVOICE,
            T_INVOICE.c.currency,
            T_INVOICE.c.kind,
            func.count().label("count"),
            func.coalesce(func.sum(T_INVOICE.c.balance_due), 0).label("total"),
            func.count().filter(overdue).label("overdue_count"),
            func.coalesce(func.sum(T_INVOICE.c.balance_due).filter(overdue), 0).label("overdue_total"),
        )
        .where(reads.outstanding())
        .group_by(T_INVOICE.c.currency, T_INVOICE.c.kind)
    )
    # one statement for every estimate figure, each count with its own condition (so its partial index applies)
    count = scope.select(T_ESTIMATE, func.count())
    figures = select(
        *(
            count.where(reads.estimate_status_in(statuses)).scalar_subquery().label(name)
            for name, statuses in DASHBOARD_FIGURES.items()
        )
    )
    last_payment = (
        scope.select(T_PAYMENT)
        .where(T_PAYMENT.c.status.in_(LAST_PAYMENT_STATUSES))
        .order_by(T_PAYMENT.c.payment_date.desc(), T_PAYMENT.c.id.desc())
        .limit(1)
    )
    async with db.session() as session:
        currency = await _currency(session, scope)
        groups = (await session.execute(outstanding)).all()
        counts = (await session.execute(figures)).one()
        payment = (await session.execute(last_payment)).one_or_none()
    by_kind: dict[str, dict[str, tuple[int, Decimal]]] = defaultdict(dict)
    overdue_count, overdue_total = 0, Decimal(0)
    for row in groups:
        by_kind[row.kind][row.currency] = (int(row.count), Decimal(row.total))
        if row.kind == "REGULAR" and row.currency == currency:
            overdue_count, overdue_total = int(row.overdue_count), Decimal(row.overdue_total)
    regular_count, regular_total = by_kind["REGULAR"].get(currency, (0, Decimal(0)))
    retainer_count, retainer_total = by_kind["RETAINER"].get(currency, (0, Decimal(0)))
    return Dashboard(
        currency=currency,
        outstanding_total=quantize(regular_total, currency),
        outstanding_count=regular_count,
        outstanding_filter=InvoiceFilterValues(status=list(OUTSTANDING_SHOWN), kind=InvoiceKind.REGULAR),
        outstanding_by_currency=[
            CurrencyTotal(currency=code, total=quantize(total, code), count=count)
            for code, (count, total) in sorted(by_kind["REGULAR"].items())
        ],
        retainer_invoices=OutstandingInvoices(
            total=quantize(retainer_total, currency),
            count=retainer_count,
            filter=InvoiceFilterValues(status=list(OUTSTANDING_SHOWN), kind=InvoiceKind.RETAINER),
        ),
        overdue=OutstandingInvoices(
            total=quantize(overdue_total, currency),
            count=overdue_count,
            filter=InvoiceFilterValues(status=[InvoiceStatus.OVERDUE], kind=InvoiceKind.REGULAR),
        ),
        last_payment=Payment.from_row(payment) if payment is not None else None,
        **_estimate_figures(counts),
    )


def _estimate_figures(counts: Any) -> dict[str, Any]:
    """Each of ``DASHBOARD_FIGURES`` as the dashboard's count and the filter that lists what it counts."""
    figures: dict[str, Any] = {}
    for name, statuses in DASHBOARD_FIGURES.items():
        figures[name] = int(getattr(counts, name) or 0)
        figures[f"{name}_filter"] = EstimateFilterValues(status=list(statuses))
    return figures


async def dashboard(info: strawberry.Info) -> Dashboard:
    """The viewer's dashboard: their contact's in the portal, the organization's for staff."""
    ctx: Context = info.context
    return await build_dashboard(ctx.db, ctx.scope)


@strawberry.type
class Query:
    dashboard: Dashboard = strawberry.field(resolver=dashboard)
