"""Refunds made at Stripe (``charge.refunded``, from the webhook), applied to the attempt's payment once.

Stripe reports the refunded amount cumulatively, so an older or repeated event changes nothing. A full refund
reverses the payment's allocations (the invoices are due again) and marks it REFUNDED; a partial refund is
recorded for staff, who adjust the invoices by hand.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.money import quantize
from core.scope import T_ALLOCATION, T_INVOICE, T_PAYMENT, StaffScope
from services.documents.history import record_activity
from services.payments.allocations import lock_invoices
from services.payments.attempts import PaymentAttempt, lock_attempt, update_attempt
from services.payments.gateway import from_minor
from services.payments.outcomes import announce_payment, money_text, note_on_invoices, record_success
from subscriptions.broker import Broker
from subscriptions.events import DocumentStatusChanged, emit


async def apply_refund(session: AsyncSession, broker: Broker, attempt: PaymentAttempt, charge: dict[str, Any]) -> str:
    """A ``charge.refunded`` for the (locked) attempt; returns "applied", "unchanged" or "ignored"."""
    if attempt.status != "SUCCEEDED":
        if charge.get("status") != "succeeded" and not charge.get("paid"):
            return "ignored"
        # the refund overtook the success event: the charge proves the money moved
        await record_success(session, broker, attempt, str(charge.get("payment_intent")), gateway="STRIPE")
        attempt = await lock_attempt(session, attempt.id)
    refunded = from_minor(int(charge.get("amount_refunded") or 0), attempt.currency)
    if refunded <= attempt.amount_refunded:
        return "unchanged"
    await update_attempt(session, attempt.id, amount_refunded=refunded)
    amount = money_text(refunded, attempt.currency)
    if not charge.get("refunded"):
        await note_on_invoices(
            session,
            attempt,
            "refund_partial",
            f"{amount} of the payment refunded at Stripe; adjust the invoice by hand",
            viewer=None,
            details={"payment_id": attempt.payment_id, "refunded": str(quantize(refunded, attempt.currency))},
        )
        return "applied"
    assert attempt.payment_id is not None  # a SUCCEEDED attempt has its payment
    await _reverse_allocations(session, broker, attempt, amount)
    await session.execute(update(T_PAYMENT).where(T_PAYMENT.c.id == attempt.payment_id).values(status="REFUNDED"))
    announce_payment(session, broker, attempt, attempt.payment_id)
    return "applied"


async def _reverse_allocations(session: AsyncSession, broker: Broker, attempt: PaymentAttempt, amount: str) -> None:
    """Take the payment's allocations off its invoices (a voided invoice stays VOID), with history and events."""
    allocations = (
        await session.execute(
            select(T_ALLOCATION.c.invoice_id, T_ALLOCATION.c.amount).where(
                T_ALLOCATION.c.payment_id == attempt.payment_id
            )
        )
    ).all()
    invoices = await lock_invoices(
        session,
        StaffScope(organization_id=attempt.organization_id),
        sorted(allocation.invoice_id for allocation in allocations),
    )
    for allocation in sorted(allocations, key=lambda a: a.invoice_id):
        invoice = invoices[allocation.invoice_id]
        values = _reversed_invoice(invoice, allocation.amount)
        await session.execute(
            update(T_INVOICE).where(T_INVOICE.c.id == invoice.id).values(**values, updated_at=func.now())
        )
        await record_activity(
            session,
            viewer=None,
            organization_id=attempt.organization_id,
            contact_id=attempt.contact_id,
            invoice_id=invoice.id,
            kind="refunded",
            description=f"Payment refunded ({money_text(allocation.amount, attempt.currency)})",
            client_visible=True,
            details={"payment_id": attempt.payment_id, "refunded": amount},
        )
        if values.get("status", invoice.status) != invoice.status:
            emit(
                session,
                broker,
                attempt.organization_id,
                DocumentStatusChanged(
                    document_type="INVOICE",
                    document_id=invoice.id,
                    contact_id=attempt.contact_id,
                    previous_status=invoice.status,
                    status=values["status"],
                ),
            )


def _reversed_invoice(invoice: Any, refunded: Any) -> dict[str, Any]:
    """The invoice's columns once ``refunded`` is taken off what was paid on it."""
    paid = invoice.amount_paid - refunded
    if invoice.status == "VOID":
        return {"amount_paid": paid}
    return {
        "amount_paid": paid,
        "balance_due": invoice.balance_due + refunded,
        "status": "SENT" if paid == 0 else "PARTIALLY_PAID",
    }
