"""``POST /webhooks/stripe``: Stripe's events about our PaymentIntents, verified and applied exactly once.

The signature (``Stripe-Signature``, HMAC-SHA256 with ``STRIPE_WEBHOOK_SECRET``, 300 s tolerance) is checked on
the raw body before anything is read from it: a wrong secret, a changed body or a stale timestamp gets 400 and
nothing is recorded. Each event id is inserted into ``stripe_event`` in the same transaction that applies it,
so a re-delivered event (even two deliveries at once: the second waits on the first's key) changes nothing.
Events may arrive in any order: ``services.payments.outcomes`` only moves an attempt forward, and
``services.payments.refunds`` applies a refund's cumulative amount.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import stripe
from sqlalchemy import Table, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from starlette.requests import Request
from starlette.responses import JSONResponse

from models import StripeEvent
from services.payments.outcomes import apply_intent_status
from services.payments.refunds import apply_refund
from services.payments.requests import Deps
from services.payments.stripe_flow import lock_attempt_for_intent

log = logging.getLogger(__name__)

T_EVENT: Table = StripeEvent.__table__  # type: ignore[assignment]


TOLERANCE_SECONDS = 300


MAX_BODY_BYTES = 512 * 1024


INTENT_EVENTS = {
    "payment_intent.succeeded": "SUCCEEDED",
    "payment_intent.processing": "PROCESSING",
    "payment_intent.payment_failed": "FAILED",
    "payment_intent.canceled": "CANCELED",
}


async def stripe_webhook(request: Request) -> JSONResponse:
    runtime = request.app.state.runtime
    settings = runtime.settings
    if not settings.stripe_webhook_secret:
        return JSONResponse({"error": "Stripe webhooks are not configured."}, status_code=503)
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        return JSONResponse({"error": "Payload too large."}, status_code=413)
    try:
        payload = body.decode("utf-8")
        stripe.WebhookSignature.verify_header(
            payload, request.headers.get("stripe-signature"), settings.stripe_webhook_secret, TOLERANCE_SECONDS
        )
        event = json.loads(payload)
    except (stripe.SignatureVerificationError, UnicodeDecodeError, ValueError):
        return JSONResponse({"error": "Invalid signature or payload."}, status_code=400)
    if not _well_formed(event):
        return JSONResponse({"error": "Not a Stripe event."}, status_code=400)
    deps = Deps(db=runtime.db, broker=runtime.broker, settings=settings)
    outcome = await apply_event(deps, event)
    log.info("stripe event", extra={"event_id": event["id"], "type": event["type"], "outcome": outcome})
    return JSONResponse({"received": True, "outcome": outcome})


def _well_formed(event: Any) -> bool:
    return (
        isinstance(event, dict)
        and isinstance(event.get("id"), str)
        and 0 < len(event["id"]) <= 255
        and isinstance(event.get("type"), str)
        and isinstance(event.get("data"), dict)
        and isinstance(event["data"].get("object"), dict)
    )


async def apply_event(deps: Deps, event: dict[str, Any]) -> str:
    """Apply one verified event; returns "applied", "unchanged", "ignored" or "duplicate"."""
    obj = event["data"]["object"]
    kind = event["type"]
    if kind in INTENT_EVENTS:
        intent = obj
    elif kind == "charge.refunded":
        intent = {"id": obj.get("payment_intent"), "metadata": obj.get("metadata") or {}}
    else:
        intent = None
    intent_id = intent.get("id") if intent else None
    async with deps.db.transaction() as session:
        first_time = await session.scalar(
            pg_insert(T_EVENT)
            .values(
                id=event["id"],
                type=kind[:100],
                payment_intent_id=intent_id if isinstance(intent_id, str) else None,
                outcome="received",
            )
            .on_conflict_do_nothing(index_elements=[T_EVENT.c.id])
            .returning(T_EVENT.c.id)
        )
        if first_time is None:
            return "duplicate"
        outcome = "ignored"
        if intent is not None and isinstance(intent_id, str):
            attempt = await lock_attempt_for_intent(
                session, intent if kind in INTENT_EVENTS else {**intent, "amount": None}, attempt_id=None
            )
            if attempt is not None and kind in INTENT_EVENTS:
                outcome = await apply_intent_status(session, deps.broker, attempt, INTENT_EVENTS[kind], obj)
            elif attempt is not None:
                outcome = await apply_refund(session, deps.broker, attempt, obj)
        await session.execute(update(T_EVENT).where(T_EVENT.c.id == event["id"]).values(outcome=outcome))
    return outcome
