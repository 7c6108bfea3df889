"""The payer's card or bank account: a new one from Stripe.js checked, a saved one chosen, one kept for later.

We keep only Stripe ids and display data (brand or bank, last4, expiry); card numbers never reach this server.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.auth import PortalViewer
from core.database import Database
from core.errors import DomainError, not_found
from core.scope import T_CONTACT, T_SAVED_METHOD, Scope
from services.payments.gateway import STRIPE_METHOD_TYPES, GatewayError, GatewayUnavailable, StripeGateway
from services.payments.requests import PayRequest

NEW_METHOD_FIELD = "method.stripePaymentMethodId"


async def inspect_new_method(
    db: Database, gateway: StripeGateway, viewer: PortalViewer, request: PayRequest
) -> dict[str, Any]:
    """Display data of a PaymentMethod created by Stripe.js; it must be of the chosen type and not someone else's."""
    assert request.stripe_method_id is not None
    try:
        method = await gateway.retrieve_payment_method(request.stripe_method_id)
    except GatewayUnavailable as error:
        raise DomainError("GATEWAY_UNAVAILABLE", "The payment gateway did not answer; try again.") from error
    except GatewayError as error:
        unknown = DomainError("INVALID_PAYMENT_METHOD", "Stripe does not know this payment method.", NEW_METHOD_FIELD)
        raise unknown from error
    if method.get("type") != STRIPE_METHOD_TYPES[request.method_type]:
        raise DomainError(
            "INVALID_PAYMENT_METHOD",
            f"This payment method is not a {request.method_type.lower()} payment method.",
            NEW_METHOD_FIELD,
        )
    if method.get("customer"):
        async with db.session() as session:
            customer = await session.scalar(
                select(T_CONTACT.c.stripe_customer_id).where(T_CONTACT.c.id == viewer.contact_id)
            )
        if method["customer"] != customer:
            raise DomainError(
                "INVALID_PAYMENT_METHOD", "This payment method belongs to someone else.", NEW_METHOD_FIELD
            )
    return method_display(method)


def method_display(method: dict[str, Any]) -> dict[str, Any]:
    """Brand/bank, last4 and expiry of a Stripe PaymentMethod (all we ever keep of it)."""
    if method.get("type") == "card":
        card = method.get("card") or {}
        return {key: card.get(key) for key in ("brand", "last4", "exp_month", "exp_year")}
    bank = method.get("us_bank_account") or {}
    return {"bank_name": bank.get("bank_name"), "last4": bank.get("last4")}


async def chosen_method(
    session: AsyncSession, scope: Scope, request: PayRequest, new_method_details: dict[str, Any] | None
) -> tuple[str | None, dict[str, Any]]:
    """The Stripe PaymentMethod id to charge and its display data: the new one, or the saved one the request names
    (the scope's, of the chosen type)."""
    if request.saved_method_id is None:
        return request.stripe_method_id, new_method_details or {}
    saved = (await session.execute(scope.where_id(T_SAVED_METHOD, request.saved_method_id))).one_or_none()
    if saved is None:
        raise not_found("No saved payment method with this id.", "method.savedPaymentMethodId")
    if saved.type != request.method_type:
        raise DomainError(
            "INVALID_PAYMENT_METHOD",
            f"This saved payment method is not a {request.method_type.lower()} payment method.",
            "method.savedPaymentMethodId",
        )
    return saved.stripe_payment_method_id, {"brand": saved.brand, "bank_name": saved.bank_name, "last4": saved.last4}


async def keep_method(
    session: AsyncSession,
    *,
    organization_id: int,
    contact_id: int,
    stripe_payment_method_id: str,
    method_type: str,
    details: dict[str, Any],
) -> int | None:
    """Save a PaymentMethod Stripe attached to the contact's customer; its id (None: it was saved already)."""
    saved_id = await session.scalar(
        pg_insert(T_SAVED_METHOD)
        .values(
            organization_id=organization_id,
            contact_id=contact_id,
            stripe_payment_method_id=stripe_payment_method_id,
            type=method_type,
            brand=details.get("brand"),
            bank_name=details.get("bank_name"),
            last4=str(details.get("last4") or "")[:4],
            exp_month=details.get("exp_month"),
            exp_year=details.get("exp_year"),
        )
        .on_conflict_do_nothing(index_elements=[T_SAVED_METHOD.c.stripe_payment_method_id])
        .returning(T_SAVED_METHOD.c.id)
    )
    return int(saved_id) if saved_id is not None else None
