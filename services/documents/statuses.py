"""Statuses in SQL: the effective status of a row (EXPIRED and OVERDUE derived from the dates) and the filters on it.

The vocabularies themselves are the StrEnums of ``models.estimates`` and ``models.invoices``; this module only says
how a derived status is computed, so every reader (queries, the compiled operations, PDFs) derives it alike.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, and_, case, false, func, literal_column, or_

from core.scope import T_ESTIMATE, T_INVOICE
from models.estimates import AWAITING_APPROVAL, EstimateStatus
from models.invoices import OUTSTANDING, InvoiceStatus

TODAY = func.current_date()


def _expired() -> ColumnElement[bool]:
    return and_(T_ESTIMATE.c.status == EstimateStatus.SENT, T_ESTIMATE.c.expiry_date < TODAY)


def _overdue() -> ColumnElement[bool]:
    return and_(T_INVOICE.c.status.in_(OUTSTANDING), T_INVOICE.c.due_date < TODAY)


ESTIMATE_STATUS = case((_expired(), literal_column(f"'{EstimateStatus.EXPIRED}'")), else_=T_ESTIMATE.c.status)


INVOICE_STATUS = case((_overdue(), literal_column(f"'{InvoiceStatus.OVERDUE}'")), else_=T_INVOICE.c.status)


def _open_ended(column: Any) -> Any:
    return or_(column.is_(None), column >= TODAY)


def estimate_status_in(statuses: Iterable[Any]) -> ColumnElement[bool]:
    """``ESTIMATE_STATUS IN statuses`` written so that indexes on status and expiry date apply."""
    conditions = []
    for status in {getattr(s, "value", s) for s in statuses}:
        if status == EstimateStatus.EXPIRED:
            conditions.append(_expired())
        elif status == EstimateStatus.SENT:
            conditions.append(and_(T_ESTIMATE.c.status == status, _open_ended(T_ESTIMATE.c.expiry_date)))
        else:
            conditions.append(T_ESTIMATE.c.status == status)
    return or_(false(), *conditions)


def invoice_status_in(statuses: Iterable[Any]) -> ColumnElement[bool]:
    """``INVOICE_STATUS IN statuses`` written so that indexes on status and due date apply."""
    conditions = []
    for status in {getattr(s, "value", s) for s in statuses}:
        if status == InvoiceStatus.OVERDUE:
            conditions.append(_overdue())
        elif status in OUTSTANDING:
            conditions.append(and_(T_INVOICE.c.status == status, _open_ended(T_INVOICE.c.due_date)))
        else:
            conditions.append(T_INVOICE.c.status == status)
    return or_(false(), *conditions)


def awaiting_approval() -> ColumnElement[bool]:
    """Estimates waiting for the client's answer (the dashboard's figure, on every path that computes it)."""
    return estimate_status_in(AWAITING_APPROVAL)


def outstanding() -> ColumnElement[bool]:
    """Invoices with money still to come, overdue or not (the dashboard's outstanding figures)."""
    return T_INVOICE.c.status.in_(OUTSTANDING)
