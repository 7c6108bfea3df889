"""Online payments from the portal: ``payInvoices``, ``savedPaymentMethods``, ``removeSavedPaymentMethod``.

``payInvoices`` is for portal users paying their own contact's invoices; staff get FORBIDDEN (they record money
received with ``recordPayment``). Saved payment methods are read and removed through the viewer's scope: a portal
user sees their contact's, staff see their organization's (and may remove one at a client's request).
"""

from __future__ import annotations

from collections.abc import Sequence

import strawberry
from sqlalchemy import delete
from strawberry.dataloader import DataLoader

from core.context import Context
from core.errors import DomainError, not_found
from core.scope import T_ORGANIZATION, T_SAVED_METHOD
from resolvers.common import pk_of, record_action, returns_errors
from schema.payments.enums import PaymentAttemptStatus, PaymentFailureCode, PaymentMethodType
from schema.payments.mutations import (
    PayInvoicesError,
    PayInvoicesInput,
    PayInvoicesResult,
    RemoveSavedPaymentMethodError,
    RemoveSavedPaymentMethodResult,
)
from schema.payments.types import Payment, PaymentAttempt, SavedPaymentMethod
from services.payments import checkout
from services.payments.attempts import pending_payments_by_invoice
from services.payments.gateway import GatewayRejected, GatewayUnavailable, is_configured, open_gateway
from services.payments.requests import Deps, Payer, PayRequest, simulated_offered


@returns_errors(PayInvoicesError)
async def pay_invoices(info: strawberry.Info, input: PayInvoicesInput) -> PayInvoicesResult:
    """Portal: pay one or several of the contact's invoices by card or ACH (or SIMULATED without Stripe)."""
    ctx: Context = info.context
    viewer = ctx.require_portal()
    saved_id = input.method.saved_payment_method_id
    request = PayRequest(
        invoice_ids=tuple(pk_of(gid, "Invoice", field="invoiceIds") for gid in input.invoice_ids),
        amount=input.amount,
        method_type=input.method.type.value,
        saved_method_id=(
            pk_of(saved_id, "SavedPaymentMethod", field="method.savedPaymentMethodId") if saved_id is not None else None
        ),
        stripe_method_id=input.method.stripe_payment_method_id,
        save_method=bool(input.save_payment_method),
        idempotency_key=input.idempotency_key,
    )
    result = await checkout.pay_invoices(
        Deps(db=ctx.db, broker=ctx.broker, settings=ctx.settings),
        Payer(viewer=viewer, ip_address=ctx.client_ip, user_agent=ctx.user_agent),
        request,
    )
    return PaymentAttempt(
        status=PaymentAttemptStatus(result.status),
        client_secret=result.client_secret,
        amount=result.amount,
        currency=result.currency,
        method_type=PaymentMethodType(result.method_type),
        failure_code=PaymentFailureCode(result.failure_code) if result.failure_code else None,
        failure_message=result.failure_message,
        payment_id=result.payment_id,
        invoice_ids=result.invoice_ids,
    )


async def available_payment_methods(info: strawberry.Info) -> list[PaymentMethodType]:
    """What payInvoices accepts here: CARD and/or ACH (as the organization offers them) with Stripe, else SIMULATED
    where it is allowed (``services.payments.requests.simulated_offered``)."""
    ctx: Context = info.context
    scope = ctx.scope
    async with ctx.db.session() as session:
        offered = await session.scalar(scope.select(T_ORGANIZATION, T_ORGANIZATION.c.payment_gateways)) or []
    if not is_configured(ctx.settings):
        simulated = simulated_offered(ctx.settings) and "CARD" in offered
        return [PaymentMethodType.SIMULATED] if simulated else []
    return [method for method in (PaymentMethodType.CARD, PaymentMethodType.ACH) if method.value in offered]


async def saved_payment_methods(info: strawberry.Info) -> list[SavedPaymentMethod]:
    """The viewer's saved cards and bank accounts (staff: the organization's), newest first."""
    ctx: Context = info.context
    stmt = ctx.scope.select(T_SAVED_METHOD).order_by(T_SAVED_METHOD.c.created_at.desc(), T_SAVED_METHOD.c.id.desc())
    async with ctx.db.session() as session:
        rows = (await session.execute(stmt)).all()
    return [SavedPaymentMethod.from_row(row) for row in rows]


@returns_errors(RemoveSavedPaymentMethodError)
async def remove_saved_payment_method(info: strawberry.Info, id: strawberry.ID) -> RemoveSavedPaymentMethodResult:
    """Forget a saved payment method: detached from the Stripe customer first, then deleted here."""
    ctx: Context = info.context
    scope = ctx.scope  # the viewer's: a portal user's own methods, staff's of the organization
    pk = pk_of(id, "SavedPaymentMethod")
    async with ctx.db.session() as session:
        row = (await session.execute(scope.where_id(T_SAVED_METHOD, pk))).one_or_none()
    if row is None:
        raise not_found("No saved payment method with this id.", "id")
    if is_configured(ctx.settings):
        async with open_gateway(ctx.settings) as gateway:
            try:
                await gateway.detach_payment_method(row.stripe_payment_method_id)
            except GatewayRejected:
                pass  # already detached or deleted at Stripe: nothing left to undo there
            except GatewayUnavailable as error:
                raise DomainError("GATEWAY_UNAVAILABLE", "Stripe did not answer; try again.", "id") from error
    async with ctx.db.transaction() as session:
        await session.execute(delete(T_SAVED_METHOD).where(T_SAVED_METHOD.c.id == pk, scope.owns(T_SAVED_METHOD)))
        described = row.brand or row.bank_name or row.type.lower()
        await record_action(
            ctx,
            session,
            kind="payment_method_removed",
            description=f"Saved payment method removed ({described} ending {row.last4})",
            contact_id=row.contact_id,
        )
    return SavedPaymentMethod.from_row(row)


async def pending_payment(info: strawberry.Info, invoice_pk: int) -> Payment | None:
    """The payment clearing on an invoice (an ACH debit not yet settled), through the viewer's scope."""
    ctx: Context = info.context
    loader = ctx.extras.get("pay.pending_payment")
    if loader is None:
        scope = ctx.scope

        async def load(keys: Sequence[int]) -> list[Payment | None]:
            async with ctx.db.session() as session:
                rows = await pending_payments_by_invoice(session, scope, keys)
            found = {invoice_pk: Payment.from_row(row) for invoice_pk, row in rows.items()}
            return [found.get(key) for key in keys]

        # batched, not cached: a websocket context lives long and the answer changes when the debit settles
        loader = ctx.extras["pay.pending_payment"] = DataLoader(load_fn=load, cache=False)
    return await loader.load(invoice_pk)  # type: ignore[no-any-return]


@strawberry.type
class Query:
    saved_payment_methods: list[SavedPaymentMethod] = strawberry.field(resolver=saved_payment_methods)
    available_payment_methods: list[PaymentMethodType] = strawberry.field(
        resolver=available_payment_methods,
        description="Payment method types payInvoices accepts now. SIMULATED (a demo: no money moves) appears "
        "only outside production, when no Stripe key is configured, the organization offers CARD and "
        "SIMULATED_PAYMENTS allows it, and then alone.",
    )


@strawberry.type
class Mutation:
    pay_invoices: PayInvoicesResult = strawberry.field(resolver=pay_invoices)
    remove_saved_payment_method: RemoveSavedPaymentMethodResult = strawberry.field(resolver=remove_saved_payment_method)
