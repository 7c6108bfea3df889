"""Stage 2 of ``payInvoices``: the attempt — one ``payment_attempt`` row per (portal user, idempotency key).

An attempt is opened with its invoices row-locked (``FOR UPDATE``, id order) and stores a hash of the request:
the same key replays the same attempt, the same key with another request is ``IDEMPOTENCY_KEY_REUSED``. An
invoice with an open attempt (CREATED, REQUIRES_ACTION, PROCESSING) refuses another: ``PAYMENT_PENDING`` while an
ACH debit clears, ``PAYMENT_IN_PROGRESS`` while another attempt runs; an attempt left waiting for 3-D Secure, or
without an answer for longer than ``IN_FLIGHT``, comes back as ``Blocked`` so that the caller supersedes it.

Every function here takes or returns a ``PaymentAttempt``, the typed copy of the row (``PaymentAttempt.from_row``
is the only place one is built).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, fields
from decimal import Decimal
from typing import Any

from sqlalchemy import Row, Select, Table, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.auth import PortalViewer
from core.database import after_commit
from core.errors import DomainError
from core.metrics import PAYMENT_ATTEMPTS, counted
from core.scope import T_PAYMENT, Scope
from models import PaymentAttempt as PaymentAttemptTable
from models import PaymentAttemptInvoice
from services.payments.allocations import lock_invoices
from services.payments.methods import chosen_method
from services.payments.requests import Payer, PayRequest, plan_amounts

T_ATTEMPT: Table = PaymentAttemptTable.__table__  # type: ignore[assignment]


T_ATTEMPT_INVOICE: Table = PaymentAttemptInvoice.__table__  # type: ignore[assignment]


# the gateway has not (yet) given a final answer: the attempt may still be driven at Stripe
AWAITING_GATEWAY = ("CREATED", "REQUIRES_ACTION")


# an attempt in these statuses holds its invoices
OPEN_STATUSES = (*AWAITING_GATEWAY, "PROCESSING")


# An attempt still CREATED after this long is taken as abandoned (its request died); Stripe calls time out sooner.
IN_FLIGHT = dt.timedelta(seconds=120)


@dataclass(frozen=True, slots=True)
class PaymentAttempt:
    """A ``payment_attempt`` row, typed (see ``models.payments.PaymentAttempt`` for what each status means)."""

    id: int
    organization_id: int
    contact_id: int
    contact_person_id: int
    idempotency_key: str
    request_hash: str
    gateway_key: str  # stem of the Stripe Idempotency-Keys: <gateway_key>-create, -confirm, -cancel
    method_type: str  # CARD, ACH, SIMULATED
    status: str  # CREATED, REQUIRES_ACTION, PROCESSING, SUCCEEDED, FAILED
    currency: str
    amount: Decimal
    amount_refunded: Decimal
    save_payment_method: bool
    saved_payment_method_id: int | None
    stripe_payment_method_id: str | None
    method_details: dict[str, Any]
    stripe_customer_id: str | None
    stripe_payment_intent_id: str | None
    payment_id: int | None
    failure_code: str | None
    failure_message: str | None
    ip_address: str | None
    user_agent: str | None
    created_at: dt.datetime
    updated_at: dt.datetime | None

    @classmethod
    def from_row(cls, row: Row[Any]) -> PaymentAttempt:
        values = row._mapping
        return cls(**{name: values[name] for name in ATTEMPT_FIELDS})

    @property
    def awaits_gateway(self) -> bool:
        return self.status in AWAITING_GATEWAY

    def payer(self) -> PortalViewer:
        """The portal user who made the attempt, for attributing history entries and events."""
        return PortalViewer(
            session_id=0,
            organization_id=self.organization_id,
            contact_id=self.contact_id,
            contact_person_id=self.contact_person_id,
            show_projects=False,
        )


ATTEMPT_FIELDS = tuple(field.name for field in fields(PaymentAttempt))


@dataclass(frozen=True, slots=True)
class Blocked:
    """Open attempts on the requested invoices that may be superseded (abandoned 3-D Secure, no answer)."""

    attempt_ids: list[int]


def gateway_key(viewer: PortalViewer, idempotency_key: str) -> str:
    """The stem of Stripe's Idempotency-Keys for one client key of one portal user."""
    seed = f"{viewer.organization_id}:{viewer.contact_person_id}:{idempotency_key}"
    return "portico-" + hashlib.sha256(seed.encode()).hexdigest()[:48]


async def fetch_attempt(session: AsyncSession, stmt: Select[Any]) -> PaymentAttempt | None:
    """The attempt ``stmt`` (a ``select(T_ATTEMPT)``) finds, if any."""
    row = (await session.execute(stmt)).one_or_none()
    return PaymentAttempt.from_row(row) if row is not None else None


async def read_attempt(session: AsyncSession, attempt_id: int) -> PaymentAttempt:
    """The attempt as committed, without a lock."""
    attempt = await fetch_attempt(session, select(T_ATTEMPT).where(T_ATTEMPT.c.id == attempt_id))
    assert attempt is not None
    return attempt


async def lock_attempt(session: AsyncSession, attempt_id: int) -> PaymentAttempt:
    """The attempt, row-locked: outcomes are applied under this lock, one at a time."""
    attempt = await fetch_attempt(session, select(T_ATTEMPT).where(T_ATTEMPT.c.id == attempt_id).with_for_update())
    assert attempt is not None
    return attempt


async def update_attempt(session: AsyncSession, attempt_id: int, **values: Any) -> None:
    """Set columns of the (locked) attempt, and its ``updated_at`` (a new status is counted once committed)."""
    await session.execute(update(T_ATTEMPT).where(T_ATTEMPT.c.id == attempt_id).values(**values, updated_at=func.now()))
    if "status" in values:
        after_commit(session, counted(PAYMENT_ATTEMPTS.labels(values["status"])))


async def replayed_attempt(session: AsyncSession, viewer: PortalViewer, request: PayRequest) -> PaymentAttempt | None:
    """The attempt already opened with the request's idempotency key (None: a new key); another request's key is
    refused."""
    attempt = await fetch_attempt(
        session,
        select(T_ATTEMPT).where(
            T_ATTEMPT.c.organization_id == viewer.organization_id,
            T_ATTEMPT.c.contact_person_id == viewer.contact_person_id,
            T_ATTEMPT.c.idempotency_key == request.idempotency_key,
        ),
    )
    if attempt is not None and attempt.request_hash != request.fingerprint():
        raise DomainError(
            "IDEMPOTENCY_KEY_REUSED", "This idempotency key was used for a different payment.", "idempotencyKey"
        )
    return attempt


async def attempt_plan(session: AsyncSession, attempt_id: int) -> dict[int, Decimal]:
    """The amount the attempt means for each of its invoices."""
    rows = await session.execute(
        select(T_ATTEMPT_INVOICE.c.invoice_id, T_ATTEMPT_INVOICE.c.amount).where(
            T_ATTEMPT_INVOICE.c.attempt_id == attempt_id
        )
    )
    return {row.invoice_id: row.amount for row in rows}


async def attempt_invoice_ids(session: AsyncSession, attempt_id: int) -> list[int]:
    """The attempt's invoices, in the order the request named them."""
    rows = await session.scalars(
        select(T_ATTEMPT_INVOICE.c.invoice_id)
        .where(T_ATTEMPT_INVOICE.c.attempt_id == attempt_id)
        .order_by(T_ATTEMPT_INVOICE.c.id)
    )
    return list(rows)


async def open_attempt(
    session: AsyncSession, payer: Payer, request: PayRequest, *, method_details: dict[str, Any] | None
) -> PaymentAttempt | Blocked:
    """Check the invoices under row locks and record the attempt (locked); a known key replays its attempt."""
    viewer = payer.viewer
    if (replayed := await replayed_attempt(session, viewer, request)) is not None:
        return replayed
    scope = viewer.scope()
    invoices = await lock_invoices(session, scope, sorted(request.invoice_ids))
    # a request with the same key may have committed while this one waited for the locks
    if (replayed := await replayed_attempt(session, viewer, request)) is not None:
        return replayed
    currency, plan = plan_amounts(invoices, request)
    if (blocked := await _blocked_by_open_attempts(session, request)) is not None:
        return blocked
    stripe_method_id, details = await chosen_method(session, scope, request, method_details)
    attempt_id = await _insert_attempt(
        session, payer, request, currency=currency, plan=plan, stripe_method_id=stripe_method_id, details=details
    )
    return await lock_attempt(session, attempt_id)


async def _blocked_by_open_attempts(session: AsyncSession, request: PayRequest) -> Blocked | None:
    """None when no open attempt holds the invoices; refused while one runs or clears; else what to supersede."""
    blockers = (
        await session.execute(
            select(T_ATTEMPT.c.id, T_ATTEMPT.c.status, T_ATTEMPT.c.created_at, T_ATTEMPT.c.updated_at)
            .join(T_ATTEMPT_INVOICE, T_ATTEMPT_INVOICE.c.attempt_id == T_ATTEMPT.c.id)
            .where(T_ATTEMPT_INVOICE.c.invoice_id.in_(request.invoice_ids), T_ATTEMPT.c.status.in_(OPEN_STATUSES))
            .distinct()
        )
    ).all()
    if not blockers:
        return None
    if any(blocker.status == "PROCESSING" for blocker in blockers):
        raise DomainError(
            "PAYMENT_PENDING", "A payment of these invoices is pending; it settles in a few days.", "invoiceIds"
        )
    stale_before = dt.datetime.now(dt.UTC) - IN_FLIGHT
    if request.method_type != "SIMULATED" and all(
        blocker.status == "REQUIRES_ACTION" or (blocker.updated_at or blocker.created_at) < stale_before
        for blocker in blockers
    ):
        return Blocked([blocker.id for blocker in blockers])
    raise DomainError("PAYMENT_IN_PROGRESS", "Another payment of these invoices is in progress.", "invoiceIds")


async def _insert_attempt(
    session: AsyncSession,
    payer: Payer,
    request: PayRequest,
    *,
    currency: str,
    plan: list[tuple[int, Decimal]],
    stripe_method_id: str | None,
    details: dict[str, Any],
) -> int:
    viewer = payer.viewer
    attempt_id = await session.scalar(
        insert(T_ATTEMPT)
        .values(
            organization_id=viewer.organization_id,
            contact_id=viewer.contact_id,
            contact_person_id=viewer.contact_person_id,
            idempotency_key=request.idempotency_key,
            request_hash=request.fingerprint(),
            gateway_key=gateway_key(viewer, request.idempotency_key),
            method_type=request.method_type,
            status="CREATED",
            currency=currency,
            amount=sum((amount for _, amount in plan), Decimal(0)),
            save_payment_method=request.save_method and request.saved_method_id is None,
            saved_payment_method_id=request.saved_method_id,
            stripe_payment_method_id=stripe_method_id,
            method_details=details,
            ip_address=payer.ip_address,
            user_agent=(payer.user_agent or "")[:500] or None,
        )
        .returning(T_ATTEMPT.c.id)
    )
    after_commit(session, counted(PAYMENT_ATTEMPTS.labels("CREATED")))
    assert attempt_id is not None
    await session.execute(
        insert(T_ATTEMPT_INVOICE),
        [
            {
                "organization_id": viewer.organization_id,
                "contact_id": viewer.contact_id,
                "attempt_id": attempt_id,
                "invoice_id": invoice_id,
                "amount": amount,
            }
            for invoice_id, amount in plan
        ],
    )
    return int(attempt_id)


async def pending_payments_by_invoice(
    session: AsyncSession, scope: Scope, invoice_ids: Sequence[int]
) -> dict[int, Row[Any]]:
    """The payment rows clearing on these invoices (an ACH debit not yet settled), through ``scope``."""
    stmt = (
        scope.select(T_PAYMENT, T_PAYMENT, T_ATTEMPT_INVOICE.c.invoice_id.label("for_invoice"))
        .join(T_ATTEMPT, T_ATTEMPT.c.payment_id == T_PAYMENT.c.id)
        .join(T_ATTEMPT_INVOICE, T_ATTEMPT_INVOICE.c.attempt_id == T_ATTEMPT.c.id)
        .where(
            T_PAYMENT.c.status == "PENDING",
            T_ATTEMPT.c.status == "PROCESSING",
            T_ATTEMPT_INVOICE.c.invoice_id.in_(invoice_ids),
        )
    )
    return {row.for_invoice: row for row in (await session.execute(stmt)).all()}
