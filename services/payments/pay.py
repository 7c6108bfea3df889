"""Paying invoices online (``payInvoices``): attempts, Stripe PaymentIntents, and applying their outcomes.

How money stays right:
- **One attempt per idempotency key.** A ``payment_attempt`` row is keyed by (organization, portal user, the
  client's ``idempotencyKey``) and stores a hash of the request: the same key replays the same attempt, the
  same key with another request is ``IDEMPOTENCY_KEY_REUSED``. Stripe's ``Idempotency-Key`` of every call is
  derived from the attempt (``<gateway_key>-create``, ``-confirm``, ``-cancel``), so a retry after a lost
  response or a 5xx replays Stripe's first result instead of charging again.
- **Two steps at Stripe.** The PaymentIntent is created unconfirmed (moves no money), its id is stored, and only
  then confirmed. An attempt without a stored intent id has therefore charged nothing.
- **An open attempt holds its invoices.** Attempts are opened with the invoices row-locked (``FOR UPDATE``, id
  order), and an invoice with an open attempt (CREATED, REQUIRES_ACTION, PROCESSING) refuses another:
  ``PAYMENT_PENDING`` while an ACH debit clears, ``PAYMENT_IN_PROGRESS`` while another attempt runs. An attempt
  left waiting for 3-D Secure, or stuck longer than ``IN_FLIGHT`` without an answer, is superseded: its intent is
  cancelled at Stripe (or found to have succeeded, and applied) before the new attempt opens.
- **Outcomes are applied under the attempt's row lock**, from the synchronous call or a webhook, whichever comes
  first; transitions only move forward (a success is always applied, since the money moved), so each outcome is
  applied once in any order. Payments carry the intent id as their unique ``gateway_reference``.
- **Balances are checked again when money arrives**: an allocation never exceeds the invoice's balance at that
  moment; what cannot be applied (the invoice was voided or paid by other means meanwhile) stays on the payment
  as unapplied, with a staff-only history entry.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from contextlib import nullcontext
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Table, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.auth import PortalViewer
from core.database import Database
from core.errors import DomainError
from core.money import minor_unit, quantize
from core.scope import T_ALLOCATION, T_CONTACT, T_INVOICE, T_PAYMENT, T_SAVED_METHOD, StaffScope
from core.settings import Settings
from models import PaymentAttempt, PaymentAttemptInvoice
from services.documents.history import record_activity
from services.documents.lines import money_amount, today
from services.payments.allocations import (
    PAYABLE_STATUSES,
    AllocationDraft,
    apply_allocations,
    insert_payment,
    lock_invoices,
)
from services.payments.gateway import (
    GatewayDeclined,
    GatewayError,
    GatewayRejected,
    GatewayUnavailable,
    StripeGateway,
    is_configured,
    open_gateway,
)
from subscriptions.broker import Broker
from subscriptions.events import DocumentStatusChanged, PaymentReceived, emit

T_ATTEMPT: Table = PaymentAttempt.__table__  # type: ignore[assignment]


T_ATTEMPT_INVOICE: Table = PaymentAttemptInvoice.__table__  # type: ignore[assignment]


OPEN_STATUSES = ("CREATED", "REQUIRES_ACTION", "PROCESSING")


# An attempt still CREATED after this long is taken as abandoned (its request died); Stripe calls time out sooner.
IN_FLIGHT = dt.timedelta(seconds=120)


MAX_INVOICES = 100


SIMULATED_DECLINE = "pm_simulated_decline"


STRIPE_METHOD_TYPES = {"CARD": "card", "ACH": "us_bank_account"}


PAYMENT_METHOD_ID = re.compile(r"pm_[A-Za-z0-9_]{1,250}")


@dataclass(frozen=True, slots=True)
class PayRequest:
    """A validated ``payInvoices`` input (ids decoded)."""

    invoice_ids: tuple[int, ...]
    amount: Decimal | None
    method_type: str  # CARD, ACH, SIMULATED
    saved_method_id: int | None
    stripe_method_id: str | None
    save_method: bool
    idempotency_key: str

    def fingerprint(self) -> str:
        """What makes two requests "the same" for their idempotency key."""
        canonical = {
            "invoices": sorted(self.invoice_ids),
            "amount": None if self.amount is None else str(self.amount.normalize()),
            "method": [self.method_type, self.saved_method_id, self.stripe_method_id],
            "save": self.save_method,
        }
        return hashlib.sha256(json.dumps(canonical, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Deps:
    """What the flow needs from the process: the database, the broadcast broker, the settings."""

    db: Database
    broker: Broker
    settings: Settings


@dataclass(frozen=True, slots=True)
class Payer:
    viewer: PortalViewer
    ip_address: str | None = None
    user_agent: str | None = None


@dataclass(frozen=True, slots=True)
class AttemptResult:
    attempt_id: int
    status: str  # SUCCEEDED, PROCESSING, REQUIRES_ACTION, FAILED
    client_secret: str | None
    payment_id: int | None
    invoice_ids: list[int]
    amount: Decimal
    currency: str
    method_type: str
    failure_code: str | None
    failure_message: str | None


@dataclass(frozen=True, slots=True)
class _Blocked:
    attempt_ids: list[int]


def to_minor(amount: Decimal, currency: str) -> int:
    """An amount in the currency's minor unit (cents for USD, yen for JPY): what Stripe takes."""
    units = amount / minor_unit(currency)
    if units != units.to_integral_value():
        raise ValueError(f"{amount} {currency} is not a whole number of minor units")
    return int(units)


def from_minor(units: int, currency: str) -> Decimal:
    return quantize(Decimal(units) * minor_unit(currency), currency)


def gateway_key(viewer: PortalViewer, idempotency_key: str) -> str:
    """The stem of Stripe's Idempotency-Keys for one client key of one portal user."""
    seed = f"{viewer.organization_id}:{viewer.contact_person_id}:{idempotency_key}"
    return "portico-" + hashlib.sha256(seed.encode()).hexdigest()[:48]


def simulated_offered(settings: Settings) -> bool:
    """SIMULATED (no money moves): never in production, only when allowed (default: development and tests) and
    never beside a configured Stripe account."""
    return settings.simulated_payments_enabled and not is_configured(settings)


def check_gateway_mode(settings: Settings, method_type: str) -> None:
    """CARD and ACH need Stripe; SIMULATED is only for demo and test installations without it."""
    if method_type == "SIMULATED" and not simulated_offered(settings):
        raise DomainError("SIMULATED_NOT_ALLOWED", "The simulated gateway is not available here.", "method.type")
    if method_type != "SIMULATED" and not is_configured(settings):
        raise DomainError("GATEWAY_NOT_CONFIGURED", "Online payments are not configured.", "method.type")


def check_request_shape(request: PayRequest) -> None:
    """Input rules that need no database."""
    if not request.invoice_ids or len(request.invoice_ids) > MAX_INVOICES:
        raise DomainError("INVALID_INPUT", f"Pay 1 to {MAX_INVOICES} invoices at once.", "invoiceIds")
    if len(set(request.invoice_ids)) != len(request.invoice_ids):
        raise DomainError("INVALID_INPUT", "List each invoice once.", "invoiceIds")
    if request.amount is not None and len(request.invoice_ids) != 1:
        raise DomainError("INVALID_INPUT", "A partial amount can only be paid on one invoice.", "amount")
    if not 1 <= len(request.idempotency_key) <= 255 or not request.idempotency_key.isprintable():
        raise DomainError("INVALID_INPUT", "The idempotency key takes 1 to 255 printable characters.", "idempotencyKey")
    if request.stripe_method_id is not None and not PAYMENT_METHOD_ID.fullmatch(request.stripe_method_id):
        raise DomainError("INVALID_INPUT", "Not a Stripe PaymentMethod id (pm_…).", "method.stripePaymentMethodId")
    if request.method_type == "SIMULATED":
        if request.saved_method_id is not None or request.save_method:
            raise DomainError("INVALID_INPUT", "Simulated payments use no saved payment methods.", "method")
        return
    if (request.saved_method_id is None) == (request.stripe_method_id is None):
        raise DomainError("INVALID_INPUT", "Give a saved payment method or a Stripe PaymentMethod id.", "method")


async def pay_invoices(deps: Deps, payer: Payer, request: PayRequest) -> AttemptResult:
    """Open (or replay) the attempt for ``request`` and take it as far as the gateway answers."""
    check_request_shape(request)
    check_gateway_mode(deps.settings, request.method_type)
    existing = await _existing_attempt(deps.db, payer.viewer, request)
    if existing is not None:
        return await _resume(deps, existing)
    simulated = request.method_type == "SIMULATED"
    async with nullcontext(None) if simulated else open_gateway(deps.settings) as gateway:
        details = None
        if gateway is not None and request.stripe_method_id is not None:
            details = await _inspect_new_method(deps.db, gateway, payer.viewer, request)
        for _ in range(3):
            try:
                opened = await _open_attempt(deps, payer, request, method_details=details)
            except IntegrityError:
                continue  # the same key was opened concurrently (for other invoices): the next round finds it
            if isinstance(opened, _Blocked):
                if gateway is None:
                    break
                await _supersede(deps, gateway, opened.attempt_ids)
                continue
            return await _resume(deps, opened, gateway)
    raise DomainError("PAYMENT_IN_PROGRESS", "Another payment of these invoices is in progress.", "invoiceIds")


async def _existing_attempt(db: Database, viewer: PortalViewer, request: PayRequest) -> Any:
    async with db.session() as session:
        row = await _attempt_by_key(session, viewer, request.idempotency_key)
    return _same_request(row, request) if row is not None else None


async def _attempt_by_key(session: AsyncSession, viewer: PortalViewer, key: str) -> Any:
    stmt = select(T_ATTEMPT).where(
        T_ATTEMPT.c.organization_id == viewer.organization_id,
        T_ATTEMPT.c.contact_person_id == viewer.contact_person_id,
        T_ATTEMPT.c.idempotency_key == key,
    )
    return (await session.execute(stmt)).one_or_none()


def _same_request(row: Any, request: PayRequest) -> Any:
    if row.request_hash != request.fingerprint():
        raise DomainError(
            "IDEMPOTENCY_KEY_REUSED", "This idempotency key was used for a different payment.", "idempotencyKey"
        )
    return row


async def _inspect_new_method(
    db: Database, gateway: StripeGateway, viewer: PortalViewer, request: PayRequest
) -> dict[str, Any]:
    """Display data of a PaymentMethod created by Stripe.js; it must be of the chosen type and not someone else's."""
    assert request.stripe_method_id is not None
    try:
        method = await gateway.retrieve_payment_method(request.stripe_method_id)
    except GatewayUnavailable as error:
        raise DomainError("GATEWAY_UNAVAILABLE", "The payment gateway did not answer; try again.") from error
    except GatewayError as error:
        raise DomainError(
            "INVALID_PAYMENT_METHOD", "Stripe does not know this payment method.", "method.stripePaymentMethodId"
        ) from error
    if method.get("type") != STRIPE_METHOD_TYPES[request.method_type]:
        raise DomainError(
            "INVALID_PAYMENT_METHOD",
            f"This payment method is not a {request.method_type.lower()} payment method.",
            "method.stripePaymentMethodId",
        )
    if method.get("customer"):
        async with db.session() as session:
            customer = await session.scalar(
                select(T_CONTACT.c.stripe_customer_id).where(T_CONTACT.c.id == viewer.contact_id)
            )
        if method["customer"] != customer:
            raise DomainError(
                "INVALID_PAYMENT_METHOD", "This payment method belongs to someone else.", "method.stripePaymentMethodId"
            )
    return method_display(method)


def method_display(method: dict[str, Any]) -> dict[str, Any]:
    """Brand/bank, last4 and expiry of a Stripe PaymentMethod (all we ever keep of it)."""
    if method.get("type") == "card":
        card = method.get("card") or {}
        return {key: card.get(key) for key in ("brand", "last4", "exp_month", "exp_year")}
    bank = method.get("us_bank_account") or {}
    return {"bank_name": bank.get("bank_name"), "last4": bank.get("last4")}


async def _open_attempt(deps: Deps, payer: Payer, request: PayRequest, *, method_details: dict[str, Any] | None) -> Any:
    """Check the invoices under row locks and record the attempt (settling a SIMULATED one at once)."""
    viewer = payer.viewer
    scope = viewer.scope()
    async with deps.db.transaction() as session:
        row = await _attempt_by_key(session, viewer, request.idempotency_key)
        if row is not None:
            return _same_request(row, request)
        invoices = await lock_invoices(session, scope, sorted(request.invoice_ids))
        # a request with the same key may have committed while this one waited for the locks
        row = await _attempt_by_key(session, viewer, request.idempotency_key)
        if row is not None:
            return _same_request(row, request)
        currency, plan = _plan(invoices, request)
        blockers = (
            await session.execute(
                select(T_ATTEMPT.c.id, T_ATTEMPT.c.status, T_ATTEMPT.c.created_at, T_ATTEMPT.c.updated_at)
                .join(T_ATTEMPT_INVOICE, T_ATTEMPT_INVOICE.c.attempt_id == T_ATTEMPT.c.id)
                .where(T_ATTEMPT_INVOICE.c.invoice_id.in_(request.invoice_ids), T_ATTEMPT.c.status.in_(OPEN_STATUSES))
                .distinct()
            )
        ).all()
        if blockers:
            if any(blocker.status == "PROCESSING" for blocker in blockers):
                raise DomainError(
                    "PAYMENT_PENDING", "A payment of these invoices is pending; it settles in a few days.", "invoiceIds"
                )
            stale_before = dt.datetime.now(dt.UTC) - IN_FLIGHT
            if request.method_type != "SIMULATED" and all(
                blocker.status == "REQUIRES_ACTION" or (blocker.updated_at or blocker.created_at) < stale_before
                for blocker in blockers
            ):
                return _Blocked([blocker.id for blocker in blockers])
            raise DomainError("PAYMENT_IN_PROGRESS", "Another payment of these invoices is in progress.", "invoiceIds")
        stripe_method_id = request.stripe_method_id
        details = method_details or {}
        if request.saved_method_id is not None:
            saved = (await session.execute(scope.where_id(T_SAVED_METHOD, request.saved_method_id))).one_or_none()
            if saved is None:
                raise DomainError("NOT_FOUND", "No saved payment method with this id.", "method.savedPaymentMethodId")
            if saved.type != request.method_type:
                raise DomainError(
                    "INVALID_PAYMENT_METHOD",
                    f"This saved payment method is not a {request.method_type.lower()} payment method.",
                    "method.savedPaymentMethodId",
                )
            stripe_method_id = saved.stripe_payment_method_id
            details = {"brand": saved.brand, "bank_name": saved.bank_name, "last4": saved.last4}
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
        attempt = await _lock_attempt(session, attempt_id)
        if request.method_type == "SIMULATED":
            if request.stripe_method_id == SIMULATED_DECLINE:
                await _record_failure(session, deps.broker, attempt, "CARD_DECLINED", "Simulated decline.")
            else:
                await _record_success(session, deps.broker, attempt, f"simulated_{attempt_id}", gateway="SIMULATED")
            attempt = await _lock_attempt(session, attempt_id)
        return attempt


def _plan(invoices: dict[int, Any], request: PayRequest) -> tuple[str, list[tuple[int, Decimal]]]:
    """The currency and the amount for each invoice, from the server's balances."""
    rows = []
    for pk in request.invoice_ids:
        invoice = invoices.get(pk)
        if invoice is None:
            raise DomainError("NOT_FOUND", "No invoice with this id.", "invoiceIds")
        rows.append(invoice)
    currency = rows[0].currency
    for invoice in rows:
        if invoice.currency != currency:
            raise DomainError("CURRENCY_MISMATCH", "Invoices paid together must share one currency.", "invoiceIds")
        if invoice.status == "PAID" or (invoice.status in PAYABLE_STATUSES and invoice.balance_due <= 0):
            raise DomainError("ALREADY_PAID", f"Invoice {invoice.number} is paid.", "invoiceIds")
        if invoice.status not in PAYABLE_STATUSES:
            raise DomainError("INVALID_STATE", f"Invoice {invoice.number} is {invoice.status}.", "invoiceIds")
        # SIMULATED stands in for a card payment, and obeys the invoice's gateways like one
        gateway = "CARD" if request.method_type == "SIMULATED" else request.method_type
        if gateway not in (invoice.payment_gateways or []):
            raise DomainError(
                "GATEWAY_NOT_ALLOWED",
                f"Invoice {invoice.number} cannot be paid by {request.method_type.lower()}.",
                "method.type",
            )
    if request.amount is not None:
        amount = money_amount(request.amount, currency, "amount")
        if amount > rows[0].balance_due:
            raise DomainError(
                "EXCEEDS_BALANCE",
                f"Invoice {rows[0].number} has {quantize(rows[0].balance_due, currency)} {currency} due.",
                "amount",
            )
        return currency, [(rows[0].id, amount)]
    return currency, [(invoice.id, quantize(invoice.balance_due, currency)) for invoice in rows]


async def _resume(deps: Deps, attempt: Any, gateway: StripeGateway | None = None) -> AttemptResult:
    """Take an open attempt as far as Stripe allows now; a final or PROCESSING one is only read."""
    if attempt.status not in ("CREATED", "REQUIRES_ACTION") or attempt.method_type == "SIMULATED":
        return await _result(deps.db, attempt)
    if gateway is None:
        async with open_gateway(deps.settings) as opened:
            return await _resume(deps, attempt, opened)
    try:
        intent, error = await _drive(deps, gateway, attempt)
    except GatewayUnavailable as failure:
        raise DomainError(
            "GATEWAY_UNAVAILABLE",
            "The payment gateway did not answer. Retry with the same idempotencyKey: nothing is charged twice.",
        ) from failure
    if intent is None:  # Stripe refused the request itself: nothing was charged
        async with deps.db.transaction() as session:
            locked = await _lock_attempt(session, attempt.id)
            if locked.status in ("CREATED", "REQUIRES_ACTION"):
                await _record_failure(session, deps.broker, locked, "INVALID_PAYMENT_METHOD", error)
        return await _result(deps.db, attempt)
    applied = await apply_intent(deps, intent, attempt_id=attempt.id)
    secret = intent.get("client_secret") if applied is not None and applied.status == "REQUIRES_ACTION" else None
    return await _result(deps.db, applied or attempt, client_secret=secret)


async def _drive(deps: Deps, gateway: StripeGateway, attempt: Any) -> tuple[dict[str, Any] | None, str | None]:
    """Create (once) and confirm (once) the attempt's PaymentIntent; returns the intent as Stripe left it."""
    intent_id: str | None = attempt.stripe_payment_intent_id
    try:
        customer = attempt.stripe_customer_id or await ensure_customer(
            deps.db, gateway, organization_id=attempt.organization_id, contact_id=attempt.contact_id
        )
        if intent_id is None:
            intent = await gateway.create_payment_intent(
                await _intent_params(deps.db, attempt, customer), idempotency_key=f"{attempt.gateway_key}-create"
            )
            intent_id = intent["id"]
            if not await _store_intent(deps.db, attempt.id, intent["id"], customer):
                return intent, None  # closed meanwhile (superseded): never confirm it
        else:
            intent = await gateway.retrieve_payment_intent(intent_id)
        if intent["status"] == "requires_confirmation" or (
            intent["status"] == "requires_payment_method" and not intent.get("last_payment_error")
        ):
            intent = await gateway.confirm_payment_intent(
                intent["id"], _confirm_params(attempt), idempotency_key=f"{attempt.gateway_key}-confirm"
            )
        return intent, None
    except GatewayDeclined as declined:
        intent = declined.payment_intent or (await gateway.retrieve_payment_intent(intent_id) if intent_id else {})
        if not intent.get("last_payment_error"):
            intent = {**intent, "status": "requires_payment_method", "last_payment_error": declined.error}
        return intent, None
    except GatewayRejected as rejected:
        if rejected.payment_intent is not None:  # e.g. it succeeded or was cancelled meanwhile: apply what Stripe says
            return rejected.payment_intent, None
        return None, str(rejected)


async def ensure_customer(db: Database, gateway: StripeGateway, *, organization_id: int, contact_id: int) -> str:
    """The contact's Stripe Customer, created on first need (the contact row stays locked meanwhile: one customer)."""
    async with db.transaction() as session:
        contact = (
            await session.execute(
                select(T_CONTACT)
                .where(T_CONTACT.c.id == contact_id, T_CONTACT.c.organization_id == organization_id)
                .with_for_update()
            )
        ).one()
        if contact.stripe_customer_id:
            return str(contact.stripe_customer_id)
        params: dict[str, Any] = {
            "name": contact.display_name,
            "metadata": {"portico_organization_id": str(organization_id), "portico_contact_id": str(contact_id)},
        }
        if contact.email:
            params["email"] = contact.email
        digest = hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:16]
        customer = await gateway.create_customer(
            params, idempotency_key=f"portico-customer-{organization_id}-{contact_id}-{digest}"
        )
        await session.execute(
            update(T_CONTACT).where(T_CONTACT.c.id == contact_id).values(stripe_customer_id=customer["id"])
        )
    return str(customer["id"])


async def _intent_params(db: Database, attempt: Any, customer: str) -> dict[str, Any]:
    """The PaymentIntent, from the attempt's stored values only: a retry sends exactly the same parameters."""
    async with db.session() as session:
        invoice_ids = await _attempt_invoice_ids(session, attempt.id)
    params: dict[str, Any] = {
        "amount": to_minor(attempt.amount, attempt.currency),
        "currency": attempt.currency.lower(),
        "customer": customer,
        "payment_method": attempt.stripe_payment_method_id,
        "payment_method_types": [STRIPE_METHOD_TYPES[attempt.method_type]],
        "description": f"Portico payment {attempt.id}",
        "metadata": {
            "portico_attempt_id": str(attempt.id),
            "portico_organization_id": str(attempt.organization_id),
            "portico_contact_id": str(attempt.contact_id),
            "portico_invoice_ids": ",".join(str(pk) for pk in invoice_ids),
        },
    }
    if attempt.save_payment_method:
        params["setup_future_usage"] = "off_session"
    return params


def _confirm_params(attempt: Any) -> dict[str, Any]:
    if attempt.method_type != "ACH":
        return {}
    # an ACH debit needs the payer's mandate: accepted online, from where the attempt was made
    return {
        "mandate_data": {
            "customer_acceptance": {
                "type": "online",
                "online": {
                    "ip_address": attempt.ip_address or "127.0.0.1",
                    "user_agent": attempt.user_agent or "Portico",
                },
            }
        }
    }


async def _store_intent(db: Database, attempt_id: int, intent_id: str, customer: str) -> bool:
    """Remember the intent before confirming it; False when the attempt was closed meanwhile (do not confirm)."""
    async with db.transaction() as session:
        stored = await session.scalar(
            update(T_ATTEMPT)
            .where(
                T_ATTEMPT.c.id == attempt_id,
                T_ATTEMPT.c.status.in_(("CREATED", "REQUIRES_ACTION")),
                T_ATTEMPT.c.stripe_payment_intent_id.is_(None) | (T_ATTEMPT.c.stripe_payment_intent_id == intent_id),
            )
            .values(stripe_payment_intent_id=intent_id, stripe_customer_id=customer, updated_at=func.now())
            .returning(T_ATTEMPT.c.id)
        )
    return stored is not None


async def _supersede(deps: Deps, gateway: StripeGateway, attempt_ids: list[int]) -> None:
    """Close attempts abandoned on these invoices: cancel their intents, or apply what already happened."""
    for attempt_id in attempt_ids:
        async with deps.db.session() as session:
            attempt = (await session.execute(select(T_ATTEMPT).where(T_ATTEMPT.c.id == attempt_id))).one()
        if attempt.status not in ("CREATED", "REQUIRES_ACTION"):
            continue
        if attempt.stripe_payment_intent_id is None:
            # confirmation is only ever sent after the intent id is stored: this attempt charged nothing
            async with deps.db.transaction() as session:
                locked = await _lock_attempt(session, attempt_id)
                if locked.status == "CREATED" and locked.stripe_payment_intent_id is None:
                    await _record_failure(session, deps.broker, locked, "CANCELED", "Abandoned before confirmation.")
            continue
        try:
            intent = await gateway.cancel_payment_intent(
                attempt.stripe_payment_intent_id, idempotency_key=f"{attempt.gateway_key}-cancel"
            )
        except GatewayRejected as rejected:  # it moved on (succeeded, processing): apply that instead
            intent = rejected.payment_intent or await gateway.retrieve_payment_intent(attempt.stripe_payment_intent_id)
        except GatewayUnavailable as error:
            raise DomainError("GATEWAY_UNAVAILABLE", "The payment gateway did not answer; try again.") from error
        await apply_intent(deps, intent, attempt_id=attempt_id)


async def apply_intent(deps: Deps, intent: dict[str, Any], *, attempt_id: int | None = None) -> Any:
    """Apply a PaymentIntent's state to its attempt in one transaction; returns the attempt (None: not ours)."""
    async with deps.db.transaction() as session:
        attempt = await lock_attempt_for_intent(session, intent, attempt_id=attempt_id)
        if attempt is None:
            return None
        await apply_intent_status(session, deps.broker, attempt, intent_status(intent), intent)
        return await _lock_attempt(session, attempt.id)


def intent_status(intent: dict[str, Any]) -> str | None:
    """SUCCEEDED, PROCESSING, REQUIRES_ACTION, FAILED, CANCELED, or None (nothing to apply yet)."""
    status = intent.get("status")
    if status == "requires_payment_method" and intent.get("last_payment_error"):
        return "FAILED"
    return {
        "succeeded": "SUCCEEDED",
        "processing": "PROCESSING",
        "requires_action": "REQUIRES_ACTION",
        "canceled": "CANCELED",
    }.get(str(status))


async def lock_attempt_for_intent(session: AsyncSession, intent: dict[str, Any], *, attempt_id: int | None) -> Any:
    """The attempt an intent belongs to, row-locked: by stored intent id, else by the id in its metadata."""
    intent_id = intent.get("id")
    if attempt_id is None and intent_id:
        row = (
            await session.execute(
                select(T_ATTEMPT).where(T_ATTEMPT.c.stripe_payment_intent_id == intent_id).with_for_update()
            )
        ).one_or_none()
        if row is not None:
            return row
        metadata = intent.get("metadata") or {}
        try:
            attempt_id = int(metadata.get("portico_attempt_id", ""))
            organization_id = int(metadata.get("portico_organization_id", ""))
        except (TypeError, ValueError):
            return None
        row = (
            await session.execute(
                select(T_ATTEMPT)
                .where(T_ATTEMPT.c.id == attempt_id, T_ATTEMPT.c.organization_id == organization_id)
                .with_for_update()
            )
        ).one_or_none()
    else:
        row = await _lock_attempt(session, attempt_id) if attempt_id is not None else None
    if row is None or (row.stripe_payment_intent_id not in (None, intent_id)):
        return None
    if intent.get("amount") is not None and intent["amount"] != to_minor(row.amount, row.currency):
        return None  # not the intent this attempt created
    if row.stripe_payment_intent_id is None and intent_id:
        await session.execute(
            update(T_ATTEMPT).where(T_ATTEMPT.c.id == row.id).values(stripe_payment_intent_id=intent_id)
        )
    return row


async def apply_intent_status(
    session: AsyncSession, broker: Broker, attempt: Any, status: str | None, intent: dict[str, Any]
) -> str:
    """Move the (locked) attempt forward to ``status``; returns what was done ("applied" or "unchanged")."""
    reference = intent.get("id") or attempt.stripe_payment_intent_id
    if status == "SUCCEEDED" and attempt.status != "SUCCEEDED":
        await _record_success(session, broker, attempt, reference, gateway="STRIPE")
        return "applied"
    if status == "PROCESSING" and attempt.status in ("CREATED", "REQUIRES_ACTION"):
        await _record_pending(session, broker, attempt, reference)
        return "applied"
    if status == "REQUIRES_ACTION" and attempt.status == "CREATED":
        await session.execute(
            update(T_ATTEMPT)
            .where(T_ATTEMPT.c.id == attempt.id)
            .values(status="REQUIRES_ACTION", updated_at=func.now())
        )
        return "applied"
    if status in ("FAILED", "CANCELED") and attempt.status in OPEN_STATUSES:
        error = intent.get("last_payment_error") or {}
        code = "CANCELED" if status == "CANCELED" else failure_code(error, attempt.method_type)
        await _record_failure(session, broker, attempt, code, error.get("message"))
        return "applied"
    return "unchanged"


def failure_code(error: dict[str, Any], method_type: str) -> str:
    """Stripe's error and decline codes as our typed failure codes."""
    code, decline = error.get("code"), error.get("decline_code")
    reasons = {code, decline}
    if "insufficient_funds" in reasons:
        return "INSUFFICIENT_FUNDS"
    if "expired_card" in reasons:
        return "EXPIRED_CARD"
    if reasons & {"incorrect_cvc", "invalid_cvc"}:
        return "INCORRECT_CVC"
    if "processing_error" in reasons:
        return "PROCESSING_ERROR"
    if reasons & {"payment_intent_authentication_failure", "authentication_required"}:
        return "AUTHENTICATION_FAILED"
    if method_type == "ACH":
        return "BANK_DEBIT_FAILED"
    return "CARD_DECLINED"


def _payer(attempt: Any) -> PortalViewer:
    """The portal user who made the attempt, for attributing history entries and events."""
    return PortalViewer(
        session_id=0,
        organization_id=attempt.organization_id,
        contact_id=attempt.contact_id,
        contact_person_id=attempt.contact_person_id,
        show_projects=False,
    )


async def _record_success(session: AsyncSession, broker: Broker, attempt: Any, reference: str, *, gateway: str) -> None:
    """The money arrived: a SUCCEEDED payment allocated to the attempt's invoices, as far as their balances go."""
    plan = await _attempt_plan(session, attempt.id)
    invoices = await lock_invoices(session, StaffScope(organization_id=attempt.organization_id), sorted(plan))
    allocations, unapplied = [], Decimal(0)
    for invoice_id, planned in sorted(plan.items()):
        invoice = invoices.get(invoice_id)
        fits = min(planned, invoice.balance_due) if invoice is not None and invoice.status in PAYABLE_STATUSES else 0
        if fits > 0:
            allocations.append(AllocationDraft(invoice_id=invoice_id, amount=fits, field="invoiceIds"))
        unapplied += planned - fits
    currency = attempt.currency
    notes = None
    if unapplied > 0:
        notes = f"{quantize(unapplied, currency)} {currency} could not be applied: refund it or apply it by hand."
    payer = _payer(attempt)
    if attempt.payment_id is not None:  # a pending (ACH) payment clears
        payment_id = attempt.payment_id
        await session.execute(
            update(T_PAYMENT).where(T_PAYMENT.c.id == payment_id).values(status="SUCCEEDED", notes=notes)
        )
    else:
        payment_id = await insert_payment(
            session,
            organization_id=attempt.organization_id,
            contact_id=attempt.contact_id,
            currency=currency,
            amount=attempt.amount,
            payment_date=today(),
            mode=attempt.method_type,
            reference=reference[:100],
            notes=notes,
            gateway=gateway,
            gateway_reference=reference,
        )
    await apply_allocations(
        session,
        organization_id=attempt.organization_id,
        viewer=payer,
        payment_id=payment_id,
        contact_id=attempt.contact_id,
        currency=currency,
        mode=attempt.method_type,
        invoices=invoices,
        allocations=allocations,
        ip_address=attempt.ip_address,
        broker=broker,
    )
    if unapplied > 0:
        for invoice_id in sorted(plan):
            await record_activity(
                session,
                viewer=payer,
                organization_id=attempt.organization_id,
                contact_id=attempt.contact_id,
                invoice_id=invoice_id,
                kind="payment_unapplied",
                description=notes or "",
                details={"payment_id": payment_id, "unapplied": str(quantize(unapplied, currency))},
            )
    await session.execute(
        update(T_ATTEMPT)
        .where(T_ATTEMPT.c.id == attempt.id)
        .values(
            status="SUCCEEDED", payment_id=payment_id, failure_code=None, failure_message=None, updated_at=func.now()
        )
    )
    await _save_method(session, attempt)
    emit(
        session, broker, attempt.organization_id, PaymentReceived(payment_id=payment_id, contact_id=attempt.contact_id)
    )


async def _record_pending(session: AsyncSession, broker: Broker, attempt: Any, reference: str) -> None:
    """Stripe accepted an ACH debit that clears later: a PENDING payment that holds the invoices meanwhile."""
    payment_id = await insert_payment(
        session,
        organization_id=attempt.organization_id,
        contact_id=attempt.contact_id,
        currency=attempt.currency,
        amount=attempt.amount,
        payment_date=today(),
        mode=attempt.method_type,
        status="PENDING",
        reference=reference[:100],
        gateway="STRIPE",
        gateway_reference=reference,
    )
    await session.execute(
        update(T_ATTEMPT)
        .where(T_ATTEMPT.c.id == attempt.id)
        .values(status="PROCESSING", payment_id=payment_id, updated_at=func.now())
    )
    amount = f"{quantize(attempt.amount, attempt.currency)} {attempt.currency}"
    for invoice_id in sorted(await _attempt_plan(session, attempt.id)):
        await record_activity(
            session,
            viewer=_payer(attempt),
            organization_id=attempt.organization_id,
            contact_id=attempt.contact_id,
            invoice_id=invoice_id,
            kind="payment_pending",
            description=f"Bank payment of {amount} initiated; it clears in a few business days",
            client_visible=True,
            ip_address=attempt.ip_address,
            details={"payment_id": payment_id},
        )
    await _save_method(session, attempt)
    emit(
        session, broker, attempt.organization_id, PaymentReceived(payment_id=payment_id, contact_id=attempt.contact_id)
    )


async def _record_failure(session: AsyncSession, broker: Broker, attempt: Any, code: str, message: str | None) -> None:
    """The attempt failed (declined, cancelled, or an ACH debit bounced): it releases its invoices."""
    await session.execute(
        update(T_ATTEMPT)
        .where(T_ATTEMPT.c.id == attempt.id)
        .values(status="FAILED", failure_code=code, failure_message=message, updated_at=func.now())
    )
    client_visible = attempt.payment_id is not None  # a bounced pending payment was shown to the client
    if attempt.payment_id is not None:
        await session.execute(update(T_PAYMENT).where(T_PAYMENT.c.id == attempt.payment_id).values(status="FAILED"))
        emit(
            session,
            broker,
            attempt.organization_id,
            PaymentReceived(payment_id=attempt.payment_id, contact_id=attempt.contact_id),
        )
    amount = f"{quantize(attempt.amount, attempt.currency)} {attempt.currency}"
    for invoice_id in sorted(await _attempt_plan(session, attempt.id)):
        await record_activity(
            session,
            viewer=_payer(attempt),
            organization_id=attempt.organization_id,
            contact_id=attempt.contact_id,
            invoice_id=invoice_id,
            kind="payment_failed",
            description=f"{attempt.method_type.capitalize()} payment of {amount} failed ({code.lower()})",
            client_visible=client_visible,
            ip_address=attempt.ip_address,
            details={"attempt_id": attempt.id, "code": code},
        )


async def _save_method(session: AsyncSession, attempt: Any) -> None:
    """Keep the payment method for later when the payer asked to (Stripe attached it: setup_future_usage)."""
    if not attempt.save_payment_method or attempt.saved_payment_method_id or not attempt.stripe_payment_method_id:
        return
    details = attempt.method_details or {}
    saved_id = await session.scalar(
        pg_insert(T_SAVED_METHOD)
        .values(
            organization_id=attempt.organization_id,
            contact_id=attempt.contact_id,
            stripe_payment_method_id=attempt.stripe_payment_method_id,
            type=attempt.method_type,
            brand=details.get("brand"),
            bank_name=details.get("bank_name"),
            last4=str(details.get("last4") or "")[:4],
            exp_month=details.get("exp_month"),
            exp_year=details.get("exp_year"),
        )
        .on_conflict_do_nothing(index_elements=[T_SAVED_METHOD.c.stripe_payment_method_id])
        .returning(T_SAVED_METHOD.c.id)
    )
    if saved_id is not None:
        await session.execute(
            update(T_ATTEMPT).where(T_ATTEMPT.c.id == attempt.id).values(saved_payment_method_id=saved_id)
        )


async def apply_refund(session: AsyncSession, broker: Broker, attempt: Any, charge: dict[str, Any]) -> str:
    """A ``charge.refunded`` for the (locked) attempt: cumulative, so older or repeated events change nothing.

    A full refund reverses the payment's allocations (the invoices are due again) and marks it REFUNDED; a
    partial refund is recorded for staff, who adjust the invoices by hand.
    """
    if attempt.status != "SUCCEEDED":
        if charge.get("status") != "succeeded" and not charge.get("paid"):
            return "ignored"
        # the refund overtook the success event: the charge proves the money moved
        await _record_success(session, broker, attempt, str(charge.get("payment_intent")), gateway="STRIPE")
        attempt = await _lock_attempt(session, attempt.id)
    refunded = from_minor(int(charge.get("amount_refunded") or 0), attempt.currency)
    if refunded <= attempt.amount_refunded:
        return "unchanged"
    await session.execute(
        update(T_ATTEMPT).where(T_ATTEMPT.c.id == attempt.id).values(amount_refunded=refunded, updated_at=func.now())
    )
    currency = attempt.currency
    amount = f"{quantize(refunded, currency)} {currency}"
    if not charge.get("refunded"):
        for invoice_id in sorted(await _attempt_plan(session, attempt.id)):
            await record_activity(
                session,
                viewer=None,
                organization_id=attempt.organization_id,
                contact_id=attempt.contact_id,
                invoice_id=invoice_id,
                kind="refund_partial",
                description=f"{amount} of the payment refunded at Stripe; adjust the invoice by hand",
                details={"payment_id": attempt.payment_id, "refunded": str(quantize(refunded, currency))},
            )
        return "applied"
    await _reverse_allocations(session, broker, attempt, amount)
    await session.execute(update(T_PAYMENT).where(T_PAYMENT.c.id == attempt.payment_id).values(status="REFUNDED"))
    emit(
        session,
        broker,
        attempt.organization_id,
        PaymentReceived(payment_id=attempt.payment_id, contact_id=attempt.contact_id),
    )
    return "applied"


async def _reverse_allocations(session: AsyncSession, broker: Broker, attempt: Any, amount: str) -> None:
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
        paid = invoice.amount_paid - allocation.amount
        if invoice.status == "VOID":
            values: dict[str, Any] = {"amount_paid": paid}
        else:
            values = {
                "amount_paid": paid,
                "balance_due": invoice.balance_due + allocation.amount,
                "status": "SENT" if paid == 0 else "PARTIALLY_PAID",
            }
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
            description=f"Payment refunded ({quantize(allocation.amount, attempt.currency)} {attempt.currency})",
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


async def _lock_attempt(session: AsyncSession, attempt_id: int) -> Any:
    return (await session.execute(select(T_ATTEMPT).where(T_ATTEMPT.c.id == attempt_id).with_for_update())).one()


async def _attempt_plan(session: AsyncSession, attempt_id: int) -> dict[int, Decimal]:
    rows = await session.execute(
        select(T_ATTEMPT_INVOICE.c.invoice_id, T_ATTEMPT_INVOICE.c.amount).where(
            T_ATTEMPT_INVOICE.c.attempt_id == attempt_id
        )
    )
    return {row.invoice_id: row.amount for row in rows}


async def _attempt_invoice_ids(session: AsyncSession, attempt_id: int) -> list[int]:
    rows = await session.scalars(
        select(T_ATTEMPT_INVOICE.c.invoice_id)
        .where(T_ATTEMPT_INVOICE.c.attempt_id == attempt_id)
        .order_by(T_ATTEMPT_INVOICE.c.id)
    )
    return list(rows)


async def _result(db: Database, attempt: Any, *, client_secret: str | None = None) -> AttemptResult:
    async with db.session() as session:
        row = (await session.execute(select(T_ATTEMPT).where(T_ATTEMPT.c.id == attempt.id))).one()
        invoice_ids = await _attempt_invoice_ids(session, attempt.id)
    status = "PROCESSING" if row.status == "CREATED" else row.status
    return AttemptResult(
        attempt_id=row.id,
        status=status,
        client_secret=client_secret if status == "REQUIRES_ACTION" else None,
        payment_id=row.payment_id,
        invoice_ids=invoice_ids,
        amount=quantize(row.amount, row.currency),
        currency=row.currency,
        method_type=row.method_type,
        failure_code=row.failure_code,
        failure_message=row.failure_message,
    )
