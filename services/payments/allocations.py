"""Recording payments and applying them to invoices, never beyond an invoice's balance.

Concurrency: the invoices a payment touches are locked (``SELECT … FOR UPDATE``) in id order before their
balances are read, so two payments on one invoice queue on its row, the second sees the first's balance, and
two payments on overlapping invoices cannot deadlock. The ``balance_due >= 0`` check constraint backs this up.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import DomainError
from core.money import quantize
from core.scope import T_ALLOCATION, T_INVOICE, T_PAYMENT, Scope
from models.invoices import OUTSTANDING, InvoiceMoves
from models.payments import PaymentStatus
from services.documents import transitions
from subscriptions.events import PaymentReceived, emit

PAYABLE_STATUSES = OUTSTANDING  # OVERDUE is derived from these


@dataclass(frozen=True, slots=True)
class AllocationDraft:
    """A validated part of a payment for one invoice; ``field`` names it in error messages."""

    invoice_id: int
    amount: Decimal
    field: str


async def lock_invoices(session: AsyncSession, scope: Scope, invoice_ids: list[int]) -> dict[int, Any]:
    """The scope's invoices among ``invoice_ids``, row-locked in id order (a fixed order: no deadlocks)."""
    stmt = scope.select(T_INVOICE).where(T_INVOICE.c.id.in_(invoice_ids)).order_by(T_INVOICE.c.id).with_for_update()
    return {row.id: row for row in (await session.execute(stmt)).all()}


def check_allocations(
    invoices: dict[int, Any], allocations: list[AllocationDraft], *, contact_id: int, currency: str
) -> None:
    """Each allocation names a payable invoice of the contact, in its currency, for at most its balance."""
    for allocation in allocations:
        invoice = invoices.get(allocation.invoice_id)
        if invoice is None:
            raise DomainError("NOT_FOUND", "No invoice with this id.", f"{allocation.field}.invoiceId")
        if invoice.contact_id != contact_id or invoice.currency != currency:
            raise DomainError(
                "INVALID_INPUT",
                f"Invoice {invoice.number} belongs to another contact.",
                f"{allocation.field}.invoiceId",
            )
        if invoice.status not in PAYABLE_STATUSES:
            raise DomainError(
                "INVALID_STATE", f"Invoice {invoice.number} is {invoice.status}.", f"{allocation.field}.invoiceId"
            )
        if allocation.amount > invoice.balance_due:
            raise DomainError(
                "EXCEEDS_BALANCE",
                f"Invoice {invoice.number} has {quantize(invoice.balance_due, currency)} {currency} due.",
                f"{allocation.field}.amount",
            )


@dataclass(frozen=True, slots=True)
class NewPayment:
    """A payment to record, as its row: who paid how much, when and how (and a gateway's own reference)."""

    organization_id: int
    contact_id: int
    currency: str
    amount: Decimal
    payment_date: dt.date
    mode: str
    status: str = PaymentStatus.SUCCEEDED
    reference: str | None = None
    notes: str | None = None
    recorded_by_id: int | None = None
    gateway: str | None = None
    gateway_reference: str | None = None
    receipt_number: str | None = None


async def record_payment(
    session: AsyncSession,
    scope: Scope,
    actor: transitions.Actor,
    payment: NewPayment,
    allocations: list[AllocationDraft],
) -> int:
    """Insert a payment with its allocations and update each invoice, inside the caller's transaction.

    The caller has checked the contact and that the allocations add up to the amount; the invoices are
    locked and checked here. Returns the payment's id. With the actor's broker, PaymentReceived and a
    DocumentStatusChanged per invoice whose status changed are published after commit.
    """
    invoices = await lock_invoices(session, scope, sorted({allocation.invoice_id for allocation in allocations}))
    check_allocations(invoices, allocations, contact_id=payment.contact_id, currency=payment.currency)
    payment_id = await insert_payment(session, payment)
    await apply_allocations(
        session, actor, payment_id, invoices, allocations, currency=payment.currency, mode=payment.mode
    )
    if actor.broker is not None:
        received = PaymentReceived(payment_id=payment_id, contact_id=payment.contact_id)
        emit(session, actor.broker, scope.organization_id, received)
    return payment_id


async def insert_payment(session: AsyncSession, payment: NewPayment) -> int:
    """Insert a payment row (no allocations yet); returns its id."""
    payment_id = await session.scalar(insert(T_PAYMENT).values(**asdict(payment)).returning(T_PAYMENT.c.id))
    assert payment_id is not None
    return int(payment_id)


async def apply_allocations(
    session: AsyncSession,
    actor: transitions.Actor,
    payment_id: int,
    invoices: dict[int, Any],
    allocations: list[AllocationDraft],
    *,
    currency: str,
    mode: str,
) -> None:
    """Allocate a payment to invoices locked and checked by the caller: paid amounts, statuses, history.

    With the actor's broker, a DocumentStatusChanged per invoice whose status changed is published after commit.
    """
    if not allocations:
        return
    await session.execute(
        insert(T_ALLOCATION),
        [
            {
                "organization_id": actor.organization_id,
                "payment_id": payment_id,
                "invoice_id": allocation.invoice_id,
                "amount": allocation.amount,
            }
            for allocation in allocations
        ],
    )
    ordered = sorted(allocations, key=lambda a: a.invoice_id)
    # one staff mail for the payment, however many invoices it pays: the first invoice's entry carries the whole
    together = {}
    if len(ordered) > 1:
        together = {
            "payment_invoices": [invoices[a.invoice_id].number for a in ordered],
            "payment_total": str(quantize(sum((a.amount for a in ordered), Decimal(0)), currency)),
        }
    for index, allocation in enumerate(ordered):
        invoice = invoices[allocation.invoice_id]
        extra = together if index == 0 else {}
        await _pay(
            session, actor, invoice, allocation.amount, payment_id, currency, mode, extra=extra, notify=index == 0
        )


async def _pay(
    session: AsyncSession,
    actor: transitions.Actor,
    invoice: Any,
    amount: Decimal,
    payment_id: int,
    currency: str,
    mode: str,
    *,
    extra: dict[str, Any],
    notify: bool,
) -> None:
    """One invoice's part of a payment: PAID when nothing is left, else PARTIALLY_PAID (``transitions.apply``)."""
    # the row is locked: its balance cannot have moved since it was read
    balance = invoice.balance_due - amount
    move = InvoiceMoves.PAY_IN_FULL if balance == 0 else InvoiceMoves.PAY_IN_PART
    transitions.check("invoice", invoice, move)
    paid, left = f"{quantize(amount, currency)} {currency}", f"{quantize(balance, currency)} {currency}"
    await transitions.apply(
        session,
        actor,
        "invoice",
        invoice,
        move,
        description=f"Payment of {paid} recorded ({'paid in full' if balance == 0 else f'{left} still due'})",
        values={"amount_paid": invoice.amount_paid + amount, "balance_due": balance},
        details={"payment_id": payment_id, "amount": str(quantize(amount, currency)), "mode": mode, **extra},
        notify=notify,
    )
