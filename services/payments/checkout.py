"""``payInvoices`` from the top: request → attempt → Stripe → outcome, and the result the client gets.

``pay_invoices`` checks the request (``requests``), opens or replays its attempt with the invoices locked
(``attempts``), supersedes abandoned attempts that hold the invoices, drives the PaymentIntent at Stripe
(``stripe_flow``) and applies what Stripe answered (``outcomes``). A SIMULATED attempt never reaches Stripe: it
settles in the transaction that opens it.
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy.exc import IntegrityError

from core.database import Database
from core.errors import DomainError
from core.money import quantize
from services.payments.attempts import (
    Blocked,
    PaymentAttempt,
    attempt_invoice_ids,
    lock_attempt,
    open_attempt,
    read_attempt,
    replayed_attempt,
)
from services.payments.gateway import GatewayUnavailable, StripeGateway, open_gateway
from services.payments.methods import inspect_new_method
from services.payments.outcomes import apply_intent, record_failure, settle_simulated
from services.payments.requests import Deps, Payer, PayRequest, check_gateway_mode, check_request_shape
from services.payments.stripe_flow import cancel_intent, drive_intent


@dataclass(frozen=True, slots=True)
class AttemptResult:
    """What ``payInvoices`` answers: the attempt as it stands after this request."""

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


async def pay_invoices(deps: Deps, payer: Payer, request: PayRequest) -> AttemptResult:
    """Open (or replay) the attempt for ``request`` and take it as far as the gateway answers."""
    check_request_shape(request)
    check_gateway_mode(deps.settings, request.method_type)
    async with deps.db.session() as session:
        replayed = await replayed_attempt(session, payer.viewer, request)
    if replayed is not None:
        return await _resume(deps, replayed)
    simulated = request.method_type == "SIMULATED"
    async with nullcontext(None) if simulated else open_gateway(deps.settings) as gateway:
        details = None
        if gateway is not None and request.stripe_method_id is not None:
            details = await inspect_new_method(deps.db, gateway, payer.viewer, request)
        for _ in range(3):
            try:
                opened = await _open(deps, payer, request, method_details=details)
            except IntegrityError:
                continue  # the same key was opened concurrently (for other invoices): the next round finds it
            if isinstance(opened, Blocked):
                if gateway is None:
                    break
                await _supersede(deps, gateway, opened.attempt_ids)
                continue
            return await _resume(deps, opened, gateway)
    raise DomainError("PAYMENT_IN_PROGRESS", "Another payment of these invoices is in progress.", "invoiceIds")


async def _open(
    deps: Deps, payer: Payer, request: PayRequest, *, method_details: dict[str, Any] | None
) -> PaymentAttempt | Blocked:
    async with deps.db.transaction() as session:
        opened = await open_attempt(session, payer, request, method_details=method_details)
        if isinstance(opened, PaymentAttempt) and opened.method_type == "SIMULATED" and opened.status == "CREATED":
            return await settle_simulated(session, deps.broker, opened)
        return opened


async def _resume(deps: Deps, attempt: PaymentAttempt, gateway: StripeGateway | None = None) -> AttemptResult:
    """Take an open attempt as far as Stripe allows now; a final or PROCESSING one is only read."""
    if not attempt.awaits_gateway or attempt.method_type == "SIMULATED":
        return await attempt_result(deps.db, attempt.id)
    if gateway is None:
        async with open_gateway(deps.settings) as opened:
            return await _resume(deps, attempt, opened)
    try:
        intent, error = await drive_intent(deps.db, gateway, attempt)
    except GatewayUnavailable as failure:
        raise DomainError(
            "GATEWAY_UNAVAILABLE",
            "The payment gateway did not answer. Retry with the same idempotencyKey: nothing is charged twice.",
        ) from failure
    if intent is None:  # Stripe refused the request itself: nothing was charged
        async with deps.db.transaction() as session:
            locked = await lock_attempt(session, attempt.id)
            if locked.awaits_gateway:
                await record_failure(session, deps.broker, locked, "INVALID_PAYMENT_METHOD", error)
        return await attempt_result(deps.db, attempt.id)
    applied = await apply_intent(deps, intent, attempt_id=attempt.id)
    secret = intent.get("client_secret") if applied is not None and applied.status == "REQUIRES_ACTION" else None
    return await attempt_result(deps.db, (applied or attempt).id, client_secret=secret)


async def _supersede(deps: Deps, gateway: StripeGateway, attempt_ids: list[int]) -> None:
    """Close attempts abandoned on these invoices: cancel their intents, or apply what already happened."""
    for attempt_id in attempt_ids:
        async with deps.db.session() as session:
            attempt = await read_attempt(session, attempt_id)
        if not attempt.awaits_gateway:
            continue
        if attempt.stripe_payment_intent_id is None:
            # confirmation is only ever sent after the intent id is stored: this attempt charged nothing
            async with deps.db.transaction() as session:
                locked = await lock_attempt(session, attempt_id)
                if locked.status == "CREATED" and locked.stripe_payment_intent_id is None:
                    await record_failure(session, deps.broker, locked, "CANCELED", "Abandoned before confirmation.")
            continue
        await apply_intent(deps, await cancel_intent(gateway, attempt), attempt_id=attempt_id)


async def attempt_result(db: Database, attempt_id: int, *, client_secret: str | None = None) -> AttemptResult:
    """The attempt as committed; the client secret only while the payer must act (3-D Secure)."""
    async with db.session() as session:
        attempt = await read_attempt(session, attempt_id)
        invoice_ids = await attempt_invoice_ids(session, attempt_id)
    status = "PROCESSING" if attempt.status == "CREATED" else attempt.status
    return AttemptResult(
        attempt_id=attempt.id,
        status=status,
        client_secret=client_secret if status == "REQUIRES_ACTION" else None,
        payment_id=attempt.payment_id,
        invoice_ids=invoice_ids,
        amount=quantize(attempt.amount, attempt.currency),
        currency=attempt.currency,
        method_type=attempt.method_type,
        failure_code=attempt.failure_code,
        failure_message=attempt.failure_message,
    )
