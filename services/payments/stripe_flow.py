"""Stage 3 of ``payInvoices``: the attempt at Stripe — a PaymentIntent created, stored, then confirmed.

**Two steps.** The PaymentIntent is created unconfirmed (it moves no money), its id is stored on the attempt, and
only then is it confirmed: an attempt without a stored intent id has charged nothing. **Derived keys.** Each
call's ``Idempotency-Key`` is derived from the attempt (``<gateway_key>-create``, ``-confirm``, ``-cancel``) and
its parameters from the attempt's stored values only, so a retry after a lost response or a 5xx replays
Stripe's first result instead of charging again. **Matching.** An intent (from a call or a webhook) finds its
attempt by the stored intent id, else by the metadata written at creation, and must carry the attempt's amount.
What the intent's state means is decided here (``intent_status``, ``failure_code``) and applied by
``services.payments.outcomes``.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.database import Database
from core.errors import DomainError
from core.scope import T_CONTACT
from services.payments.attempts import (
    AWAITING_GATEWAY,
    T_ATTEMPT,
    PaymentAttempt,
    attempt_invoice_ids,
    fetch_attempt,
    lock_attempt,
)
from services.payments.gateway import (
    STRIPE_METHOD_TYPES,
    GatewayDeclined,
    GatewayRejected,
    GatewayUnavailable,
    StripeGateway,
    to_minor,
)

# what drive_intent returns: the intent as Stripe left it, or None and why Stripe refused the request itself
Driven = tuple[dict[str, Any] | None, str | None]


def stripe_key(attempt: PaymentAttempt, call: str) -> str:
    """The Idempotency-Key of one Stripe call (``create``, ``confirm``, ``cancel``) for this attempt."""
    return f"{attempt.gateway_key}-{call}"


async def drive_intent(db: Database, gateway: StripeGateway, attempt: PaymentAttempt) -> Driven:
    """Create (once) and confirm (once) the attempt's PaymentIntent; returns the intent as Stripe left it."""
    intent_id: str | None = attempt.stripe_payment_intent_id
    try:
        customer = attempt.stripe_customer_id or await ensure_customer(
            db, gateway, organization_id=attempt.organization_id, contact_id=attempt.contact_id
        )
        if intent_id is None:
            intent = await gateway.create_payment_intent(
                await _intent_params(db, attempt, customer), idempotency_key=stripe_key(attempt, "create")
            )
            intent_id = intent["id"]
            if not await _store_intent(db, attempt.id, intent["id"], customer):
                return intent, None  # closed meanwhile (superseded): never confirm it
        else:
            intent = await gateway.retrieve_payment_intent(intent_id)
        if intent["status"] == "requires_confirmation" or (
            intent["status"] == "requires_payment_method" and not intent.get("last_payment_error")
        ):
            intent = await gateway.confirm_payment_intent(
                intent["id"], _confirm_params(attempt), idempotency_key=stripe_key(attempt, "confirm")
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


async def cancel_intent(gateway: StripeGateway, attempt: PaymentAttempt) -> dict[str, Any]:
    """Cancel the attempt's stored intent; when it moved on instead (succeeded, processing), the intent as it is."""
    assert attempt.stripe_payment_intent_id is not None
    try:
        return await gateway.cancel_payment_intent(
            attempt.stripe_payment_intent_id, idempotency_key=stripe_key(attempt, "cancel")
        )
    except GatewayRejected as rejected:
        return rejected.payment_intent or await gateway.retrieve_payment_intent(attempt.stripe_payment_intent_id)
    except GatewayUnavailable as error:
        raise DomainError("GATEWAY_UNAVAILABLE", "The payment gateway did not answer; try again.") from error


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


async def _intent_params(db: Database, attempt: PaymentAttempt, customer: str) -> dict[str, Any]:
    """The PaymentIntent, from the attempt's stored values only: a retry sends exactly the same parameters."""
    async with db.session() as session:
        invoice_ids = await attempt_invoice_ids(session, attempt.id)
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


def _confirm_params(attempt: PaymentAttempt) -> dict[str, Any]:
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
                T_ATTEMPT.c.status.in_(AWAITING_GATEWAY),
                T_ATTEMPT.c.stripe_payment_intent_id.is_(None) | (T_ATTEMPT.c.stripe_payment_intent_id == intent_id),
            )
            .values(stripe_payment_intent_id=intent_id, stripe_customer_id=customer, updated_at=func.now())
            .returning(T_ATTEMPT.c.id)
        )
    return stored is not None


async def lock_attempt_for_intent(
    session: AsyncSession, intent: dict[str, Any], *, attempt_id: int | None
) -> PaymentAttempt | None:
    """The attempt an intent belongs to, row-locked: by stored intent id, else by the id in its metadata."""
    intent_id = intent.get("id")
    if attempt_id is None and intent_id:
        known = await fetch_attempt(
            session, select(T_ATTEMPT).where(T_ATTEMPT.c.stripe_payment_intent_id == intent_id).with_for_update()
        )
        if known is not None:
            return known
        attempt = await _lock_by_metadata(session, intent)
    else:
        attempt = await lock_attempt(session, attempt_id) if attempt_id is not None else None
    if attempt is None or (attempt.stripe_payment_intent_id not in (None, intent_id)):
        return None
    if intent.get("amount") is not None and intent["amount"] != to_minor(attempt.amount, attempt.currency):
        return None  # not the intent this attempt created
    if attempt.stripe_payment_intent_id is None and intent_id:
        await session.execute(
            update(T_ATTEMPT).where(T_ATTEMPT.c.id == attempt.id).values(stripe_payment_intent_id=intent_id)
        )
    return attempt


async def _lock_by_metadata(session: AsyncSession, intent: dict[str, Any]) -> PaymentAttempt | None:
    metadata = intent.get("metadata") or {}
    try:
        attempt_id = int(metadata.get("portico_attempt_id", ""))
        organization_id = int(metadata.get("portico_organization_id", ""))
    except (TypeError, ValueError):
        return None
    return await fetch_attempt(
        session,
        select(T_ATTEMPT)
        .where(T_ATTEMPT.c.id == attempt_id, T_ATTEMPT.c.organization_id == organization_id)
        .with_for_update(),
    )


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
