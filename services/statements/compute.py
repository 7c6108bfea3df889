"""A contact's statement of account: opening balance, invoices and payments with a running balance, closing balance.

Shared by the ``statement`` query and the statement PDF, so both always show the same numbers.

What counts: invoices that were issued (not DRAFT, not VOID) at their issue date, for their total; payments that
succeeded at their payment date, for their full amount (an unallocated part is a credit too). Only documents in
the contact's currency count (a statement has one currency). Everything is read through the viewer's scope.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Literal

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import invalid
from core.money import quantize
from core.scope import T_ALLOCATION, T_CONTACT, T_INVOICE, T_PAYMENT, Scope

STATEMENT_INVOICE_EXCLUDED = ("DRAFT", "VOID")


MAX_STATEMENT_DAYS = 366 * 10


LINE_ORDER = {"INVOICE": 0, "PAYMENT": 1}  # on one day, invoices first: the balance never dips below zero


ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class StatementLine:
    """One invoice (a charge) or one payment (a credit), with the balance after it."""

    date: dt.date
    kind: Literal["INVOICE", "PAYMENT"]
    id: int
    number: str  # the invoice number, or the payment's reference ("" when it has none)
    description: str
    charge: Decimal  # invoice total; 0 on payment lines
    payment: Decimal  # payment amount; 0 on invoice lines
    balance: Decimal
    due_date: dt.date | None = None
    invoice_numbers: tuple[str, ...] = ()  # for a payment: the invoices it was applied to


@dataclass(frozen=True, slots=True)
class Statement:
    contact_id: int
    contact_name: str
    currency: str
    from_: dt.date
    to: dt.date
    opening_balance: Decimal
    invoiced: Decimal
    paid: Decimal
    closing_balance: Decimal
    lines: tuple[StatementLine, ...]


def check_period(from_: dt.date, to: dt.date) -> None:
    """Raise INVALID_INPUT for a period that ends before it starts or spans more than ten years."""
    if to < from_:
        raise invalid("The period ends before it starts.", "to")
    if (to - from_).days > MAX_STATEMENT_DAYS:
        raise invalid("A statement covers at most ten years.", "from")


async def compute_statement(
    session: AsyncSession, scope: Scope, contact_id: int, from_: dt.date, to: dt.date
) -> Statement | None:
    """The statement of ``contact_id`` for ``from_``..``to`` (inclusive); None when the contact is outside ``scope``."""
    check_period(from_, to)
    contact = (await session.execute(scope.where_id(T_CONTACT, contact_id))).one_or_none()
    if contact is None:
        return None
    counted = _Counted.of(contact_id, contact.currency)
    opening = await _opening_balance(session, scope, counted, from_)
    invoice_lines = await _invoice_lines(session, scope, counted, from_, to)
    payment_lines = await _payment_lines(session, scope, counted, from_, to)
    lines = _with_running_balance(opening, invoice_lines + payment_lines)
    invoiced = counted.amount(sum((line.charge for line in lines), ZERO))
    paid = counted.amount(sum((line.payment for line in lines), ZERO))
    return Statement(
        contact_id=contact_id,
        contact_name=contact.display_name,
        currency=counted.currency,
        from_=from_,
        to=to,
        opening_balance=opening,
        invoiced=invoiced,
        paid=paid,
        closing_balance=counted.amount(opening + invoiced - paid),
        lines=lines,
    )


@dataclass(frozen=True, slots=True)
class _Counted:
    """What a statement counts, as WHERE conditions: the contact's issued invoices and succeeded payments, in the
    contact's currency."""

    currency: str
    invoices: tuple[ColumnElement[bool], ...]
    payments: tuple[ColumnElement[bool], ...]

    @staticmethod
    def of(contact_id: int, currency: str) -> _Counted:
        return _Counted(
            currency=currency,
            invoices=(
                T_INVOICE.c.contact_id == contact_id,
                T_INVOICE.c.status.not_in(STATEMENT_INVOICE_EXCLUDED),
                T_INVOICE.c.currency == currency,
            ),
            payments=(
                T_PAYMENT.c.contact_id == contact_id,
                T_PAYMENT.c.status == "SUCCEEDED",
                T_PAYMENT.c.currency == currency,
            ),
        )

    def amount(self, value: Decimal) -> Decimal:
        return quantize(value, self.currency)


async def _opening_balance(session: AsyncSession, scope: Scope, counted: _Counted, from_: dt.date) -> Decimal:
    """Invoiced minus paid before ``from_``."""
    invoiced_before = (
        scope.select(T_INVOICE, func.coalesce(func.sum(T_INVOICE.c.total), ZERO))
        .where(*counted.invoices, T_INVOICE.c.issue_date < from_)
        .scalar_subquery()
    )
    paid_before = (
        scope.select(T_PAYMENT, func.coalesce(func.sum(T_PAYMENT.c.amount), ZERO))
        .where(*counted.payments, T_PAYMENT.c.payment_date < from_)
        .scalar_subquery()
    )
    before = (await session.execute(select(invoiced_before, paid_before))).one()
    return counted.amount(Decimal(before[0]) - Decimal(before[1]))


async def _invoice_lines(
    session: AsyncSession, scope: Scope, counted: _Counted, from_: dt.date, to: dt.date
) -> list[StatementLine]:
    """A charge per invoice issued in the period (balances still to be filled in)."""
    stmt = scope.select(T_INVOICE).where(*counted.invoices, T_INVOICE.c.issue_date.between(from_, to))
    return [
        StatementLine(
            date=row.issue_date,
            kind="INVOICE",
            id=row.id,
            number=row.number,
            description=f"Invoice {row.number}",
            charge=counted.amount(row.total),
            payment=counted.amount(ZERO),
            balance=ZERO,
            due_date=row.due_date,
        )
        for row in (await session.execute(stmt)).all()
    ]


async def _payment_lines(
    session: AsyncSession, scope: Scope, counted: _Counted, from_: dt.date, to: dt.date
) -> list[StatementLine]:
    """A credit per payment made in the period, naming the invoices it was applied to (balances still to come)."""
    stmt = scope.select(T_PAYMENT).where(*counted.payments, T_PAYMENT.c.payment_date.between(from_, to))
    rows = (await session.execute(stmt)).all()
    applied = await _invoice_numbers_by_payment(session, scope, [row.id for row in rows])
    lines = []
    for row in rows:
        numbers = applied.get(row.id, ())
        lines.append(
            StatementLine(
                date=row.payment_date,
                kind="PAYMENT",
                id=row.id,
                number=row.reference or "",
                description="Payment" + (f" for {', '.join(numbers)}" if numbers else ""),
                charge=counted.amount(ZERO),
                payment=counted.amount(row.amount),
                balance=ZERO,
                invoice_numbers=numbers,
            )
        )
    return lines


def _with_running_balance(opening: Decimal, lines: list[StatementLine]) -> tuple[StatementLine, ...]:
    """``lines`` in date order, each with the balance after it."""
    balance = opening
    ordered = []
    for line in sorted(lines, key=lambda line: (line.date, LINE_ORDER[line.kind], line.id)):
        balance = balance + line.charge - line.payment
        ordered.append(replace(line, balance=balance))
    return tuple(ordered)


async def _invoice_numbers_by_payment(
    session: AsyncSession, scope: Scope, payment_ids: list[int]
) -> dict[int, tuple[str, ...]]:
    if not payment_ids:
        return {}
    rows = (
        await session.execute(
            scope.select(T_ALLOCATION, T_ALLOCATION.c.payment_id, T_INVOICE.c.number)
            .join(T_INVOICE, T_INVOICE.c.id == T_ALLOCATION.c.invoice_id)
            .where(T_ALLOCATION.c.payment_id.in_(payment_ids))
            .order_by(T_ALLOCATION.c.payment_id, T_INVOICE.c.number)
        )
    ).all()
    numbers: dict[int, list[str]] = {}
    for row in rows:
        numbers.setdefault(row.payment_id, []).append(row.number)
    return {payment_id: tuple(found) for payment_id, found in numbers.items()}
