"""Payment queries, and ``recordPayment`` (staff: money received outside the gateways)."""

from __future__ import annotations

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from core import validation
from core.context import Context
from core.errors import DomainError
from core.scope import T_PAYMENT
from resolvers import filtering
from resolvers.common import pk_of, returns_errors
from resolvers.pagination import Paging, newest_first
from schema.base import After, Before, Connection, First, Last
from schema.payments.mutations import RecordPaymentError, RecordPaymentInput, RecordPaymentResult
from schema.payments.types import Payment, PaymentFilter
from services import receipts
from services.documents.lines import lock_contact, money_amount, today
from services.documents.transitions import Actor
from services.payments import allocations as payment_service

MAX_ALLOCATIONS = 100


async def payments(
    info: strawberry.Info,
    first: First = None,
    after: After = None,
    last: Last = None,
    before: Before = None,
    filter: PaymentFilter | None = None,
) -> Connection[Payment]:
    """Payments in the viewer's scope, newest first."""
    ctx: Context = info.context
    stmt = ctx.scope.select(T_PAYMENT)
    if filter:
        stmt = stmt.where(
            *filtering.one_of(filter.status, T_PAYMENT.c.status),
            *filtering.one_of(filter.mode, T_PAYMENT.c.mode),
            *filtering.date_range(filter.date_range, T_PAYMENT.c.payment_date),
            *filtering.contact(filter.contact_id, T_PAYMENT.c.contact_id),
        )
    return await newest_first(
        ctx.db, stmt, [T_PAYMENT.c.payment_date, T_PAYMENT.c.id], Paging(first, after, last, before), Payment.from_row
    )


@returns_errors(RecordPaymentError)
async def record_payment(info: strawberry.Info, input: RecordPaymentInput) -> RecordPaymentResult:
    """Staff: record a payment received by hand and apply all of it to SENT or PARTIALLY_PAID invoices."""
    ctx: Context = info.context
    viewer = ctx.require_staff()
    contact_pk = pk_of(input.contact_id, "Contact", field="contactId")
    if not input.allocations or len(input.allocations) > MAX_ALLOCATIONS:
        raise DomainError("INVALID_INPUT", f"Allocate the payment to 1 to {MAX_ALLOCATIONS} invoices.", "allocations")
    invoice_pks = [
        pk_of(allocation.invoice_id, "Invoice", field=f"allocations[{index}].invoiceId")
        for index, allocation in enumerate(input.allocations)
    ]
    if len(set(invoice_pks)) != len(invoice_pks):
        raise DomainError("INVALID_INPUT", "Allocate to each invoice at most once.", "allocations")
    reference = validation.text(input.reference, "reference", max_length=100)
    notes = validation.text(input.notes, "notes", max_length=5000)

    async def record(session: AsyncSession) -> int:
        contact = await lock_contact(session, ctx.scope, contact_pk)
        currency = contact.currency
        amount = money_amount(input.amount, currency, "amount")
        allocations = [
            payment_service.AllocationDraft(
                invoice_id=invoice_pk,
                amount=money_amount(allocation.amount, currency, f"allocations[{index}].amount"),
                field=f"allocations[{index}]",
            )
            for index, (invoice_pk, allocation) in enumerate(zip(invoice_pks, input.allocations, strict=True))
        ]
        if sum(allocation.amount for allocation in allocations) != amount:
            raise DomainError("INVALID_INPUT", "The allocations must add up to the amount.", "allocations")
        payment = payment_service.NewPayment(
            organization_id=ctx.scope.organization_id,
            contact_id=contact_pk,
            currency=currency,
            amount=amount,
            payment_date=input.payment_date or today(),
            mode=input.mode.value,
            reference=reference,
            notes=notes,
            recorded_by_id=viewer.staff_user_id,
        )
        return await payment_service.record_payment(session, ctx.scope, Actor.of(ctx), payment, allocations)

    async with ctx.db.transaction() as session:
        payment_pk = await receipts.once(
            session, viewer, operation="recordPayment", input=input, result_type="Payment", create=record
        )
    return await ctx.loaders.payment.load(payment_pk)  # type: ignore[return-value]


@strawberry.type
class Query:
    payments: Connection[Payment] = strawberry.field(resolver=payments)


@strawberry.type
class Mutation:
    record_payment: RecordPaymentResult = strawberry.field(resolver=record_payment)
