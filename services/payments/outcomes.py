"""Stage 4 of ``payInvoices``: the outcome — a success, a pending debit or a failure, applied to the attempt once.

Outcomes are applied under the attempt's row lock, from the synchronous call or a webhook, whichever comes first;
transitions only move forward (a success is always applied, since the money moved), so each outcome is applied
once in any order. Payments carry the intent id as their unique ``gateway_reference``. Balances are checked
again when money arrives: an allocation never exceeds the invoice's balance at that moment; what cannot be
applied (the invoice was voided or paid by other means meanwhile) stays on the payment as unapplied, with a
staff-only history entry. Money reaches the invoices through ``services.payments.allocations``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from core.auth import Viewer
from core.money import quantize
from core.scope import T_PAYMENT, StaffScope
from services.documents import transitions
from services.documents.history import record_activity
from services.documents.lines import today
from services.documents.numbering import next_number
from services.payments.allocations import (
    PAYABLE_STATUSES,
    AllocationDraft,
    NewPayment,
    apply_allocations,
    insert_payment,
    lock_invoices,
)
from services.payments.attempts import (
    AWAITING_GATEWAY,
    OPEN_STATUSES,
    T_ATTEMPT,
    PaymentAttempt,
    attempt_plan,
    lock_attempt,
    update_attempt,
)
from services.payments.methods import keep_method
from services.payments.requests import SIMULATED_DECLINE, Deps
from services.payments.stripe_flow import failure_code, intent_status, lock_attempt_for_intent
from subscriptions.broker import Broker
from subscriptions.events import PaymentReceived, emit


async def apply_intent(deps: Deps, intent: dict[str, Any], *, attempt_id: int | None = None) -> PaymentAttempt | None:
    """Apply a PaymentIntent's state to its attempt in one transaction; returns the attempt (None: not ours)."""
    async with deps.db.transaction() as session:
        attempt = await lock_attempt_for_intent(session, intent, attempt_id=attempt_id)
        if attempt is None:
            return None
        await apply_intent_status(session, deps.broker, attempt, intent_status(intent), intent)
        return await lock_attempt(session, attempt.id)


async def apply_intent_status(
    session: AsyncSession, broker: Broker, attempt: PaymentAttempt, status: str | None, intent: dict[str, Any]
) -> str:
    """Move the (locked) attempt forward to ``status``; returns what was done ("applied" or "unchanged")."""
    reference = intent.get("id") or attempt.stripe_payment_intent_id
    if status == "SUCCEEDED" and attempt.status != "SUCCEEDED":
        await record_success(session, broker, attempt, reference, gateway="STRIPE")
        return "applied"
    if status == "PROCESSING" and attempt.status in AWAITING_GATEWAY:
        await record_pending(session, broker, attempt, reference)
        return "applied"
    if status == "REQUIRES_ACTION" and attempt.status == "CREATED":
        await update_attempt(session, attempt.id, status="REQUIRES_ACTION")
        return "applied"
    if status in ("FAILED", "CANCELED") and attempt.status in OPEN_STATUSES:
        error = intent.get("last_payment_error") or {}
        code = "CANCELED" if status == "CANCELED" else failure_code(error, attempt.method_type)
        await record_failure(session, broker, attempt, code, error.get("message"))
        return "applied"
    return "unchanged"


async def settle_simulated(session: AsyncSession, broker: Broker, attempt: PaymentAttempt) -> PaymentAttempt:
    """A SIMULATED attempt settles in the transaction that opens it: declined on request, else paid at once."""
    if attempt.stripe_payment_method_id == SIMULATED_DECLINE:
        await record_failure(session, broker, attempt, "CARD_DECLINED", "Simulated decline.")
    else:
        await record_success(session, broker, attempt, f"simulated_{attempt.id}", gateway="SIMULATED")
    return await lock_attempt(session, attempt.id)


async def record_success(
    session: AsyncSession, broker: Broker, attempt: PaymentAttempt, reference: str, *, gateway: str
) -> None:
    """The money arrived: a SUCCEEDED payment allocated to the attempt's invoices, as far as their balances go."""
    plan = await attempt_plan(session, attempt.id)
    invoices = await lock_invoices(session, StaffScope(organization_id=attempt.organization_id), sorted(plan))
    allocations, unapplied = _fit_to_balances(plan, invoices)
    currency = attempt.currency
    notes = None
    if unapplied > 0:
        notes = f"{money_text(unapplied, currency)} could not be applied: refund it or apply it by hand."
    # its receipt's number, taken in this transaction: a rollback gives it back (no gaps)
    receipt = await next_number(session, organization_id=attempt.organization_id, kind="receipt")
    if attempt.payment_id is not None:  # a pending (ACH) payment clears
        payment_id = attempt.payment_id
        await session.execute(
            update(T_PAYMENT)
            .where(T_PAYMENT.c.id == payment_id)
            .values(status="SUCCEEDED", notes=notes, receipt_number=receipt)
        )
    else:
        payment_id = await _insert_gateway_payment(
            session, attempt, reference, gateway=gateway, notes=notes, receipt_number=receipt
        )
    payer = attempt.payer()
    actor = transitions.Actor(payer, attempt.organization_id, attempt.ip_address, broker)
    await apply_allocations(
        session, actor, payment_id, invoices, allocations, currency=currency, mode=attempt.method_type
    )
    if notes is not None:
        details = {"payment_id": payment_id, "unapplied": str(quantize(unapplied, currency))}
        await note_on_invoices(session, attempt, "payment_unapplied", notes, viewer=payer, details=details)
    await update_attempt(
        session, attempt.id, status="SUCCEEDED", payment_id=payment_id, failure_code=None, failure_message=None
    )
    await _keep_method_if_asked(session, attempt)
    announce_payment(session, broker, attempt, payment_id)


def _fit_to_balances(plan: dict[int, Decimal], invoices: dict[int, Any]) -> tuple[list[AllocationDraft], Decimal]:
    """The planned allocations cut to what each (locked) invoice can take now, and the rest (unapplied)."""
    allocations, unapplied = [], Decimal(0)
    for invoice_id, planned in sorted(plan.items()):
        invoice = invoices.get(invoice_id)
        fits = min(planned, invoice.balance_due) if invoice is not None and invoice.status in PAYABLE_STATUSES else 0
        if fits > 0:
            allocations.append(AllocationDraft(invoice_id=invoice_id, amount=fits, field="invoiceIds"))
        unapplied += planned - fits
    return allocations, unapplied


async def record_pending(session: AsyncSession, broker: Broker, attempt: PaymentAttempt, reference: str) -> None:
    """Stripe accepted an ACH debit that clears later: a PENDING payment that holds the invoices meanwhile."""
    payment_id = await _insert_gateway_payment(session, attempt, reference, gateway="STRIPE", status="PENDING")
    await update_attempt(session, attempt.id, status="PROCESSING", payment_id=payment_id)
    await note_on_invoices(
        session,
        attempt,
        "payment_pending",
        f"Bank payment of {money_text(attempt.amount, attempt.currency)} initiated; it clears in a few business days",
        viewer=attempt.payer(),
        client_visible=True,
        ip_address=attempt.ip_address,
        details={"payment_id": payment_id},
    )
    await _keep_method_if_asked(session, attempt)
    announce_payment(session, broker, attempt, payment_id)


async def record_failure(
    session: AsyncSession, broker: Broker, attempt: PaymentAttempt, code: str, message: str | None
) -> None:
    """The attempt failed (declined, cancelled, or an ACH debit bounced): it releases its invoices."""
    await update_attempt(session, attempt.id, status="FAILED", failure_code=code, failure_message=message)
    if attempt.payment_id is not None:  # a bounced pending payment, which the client was shown
        await session.execute(update(T_PAYMENT).where(T_PAYMENT.c.id == attempt.payment_id).values(status="FAILED"))
        announce_payment(session, broker, attempt, attempt.payment_id)
    amount = money_text(attempt.amount, attempt.currency)
    await note_on_invoices(
        session,
        attempt,
        "payment_failed",
        f"{attempt.method_type.capitalize()} payment of {amount} failed ({code.lower()})",
        viewer=attempt.payer(),
        client_visible=attempt.payment_id is not None,
        ip_address=attempt.ip_address,
        details={"attempt_id": attempt.id, "code": code},
    )


async def _insert_gateway_payment(
    session: AsyncSession,
    attempt: PaymentAttempt,
    reference: str,
    *,
    gateway: str,
    status: str = "SUCCEEDED",
    notes: str | None = None,
    receipt_number: str | None = None,
) -> int:
    """The attempt's payment, referenced by the gateway's id (unique: an outcome applied twice would fail)."""
    payment = NewPayment(
        organization_id=attempt.organization_id,
        contact_id=attempt.contact_id,
        currency=attempt.currency,
        amount=attempt.amount,
        payment_date=today(),
        mode=attempt.method_type,
        status=status,
        reference=reference[:100],
        notes=notes,
        gateway=gateway,
        gateway_reference=reference,
        receipt_number=receipt_number,
    )
    return await insert_payment(session, payment)


async def _keep_method_if_asked(session: AsyncSession, attempt: PaymentAttempt) -> None:
    """Keep the payment method for later when the payer asked to (Stripe attached it: setup_future_usage)."""
    if not attempt.save_payment_method or attempt.saved_payment_method_id or not attempt.stripe_payment_method_id:
        return
    saved_id = await keep_method(
        session,
        organization_id=attempt.organization_id,
        contact_id=attempt.contact_id,
        stripe_payment_method_id=attempt.stripe_payment_method_id,
        method_type=attempt.method_type,
        details=attempt.method_details or {},
    )
    if saved_id is not None:
        await session.execute(
            update(T_ATTEMPT).where(T_ATTEMPT.c.id == attempt.id).values(saved_payment_method_id=saved_id)
        )


def money_text(amount: Decimal, currency: str) -> str:
    """``100.00 USD``: an amount as history entries and notes show it."""
    return f"{quantize(amount, currency)} {currency}"


def announce_payment(session: AsyncSession, broker: Broker, attempt: PaymentAttempt, payment_id: int) -> None:
    """PaymentReceived for the attempt's payment, published after commit (staff dashboards follow it)."""
    emit(
        session, broker, attempt.organization_id, PaymentReceived(payment_id=payment_id, contact_id=attempt.contact_id)
    )


async def note_on_invoices(
    session: AsyncSession,
    attempt: PaymentAttempt,
    kind: str,
    description: str,
    *,
    viewer: Viewer | None,
    details: dict[str, Any],
    client_visible: bool = False,
    ip_address: str | None = None,
) -> None:
    """The same history entry on each of the attempt's invoices, in id order."""
    for invoice_id in sorted(await attempt_plan(session, attempt.id)):
        await record_activity(
            session,
            viewer=viewer,
            organization_id=attempt.organization_id,
            contact_id=attempt.contact_id,
            invoice_id=invoice_id,
            kind=kind,
            description=description,
            client_visible=client_visible,
            ip_address=ip_address,
            details=details,
        )
