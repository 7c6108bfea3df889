"""Invoice mutations (staff): create, update, send, void."""

from __future__ import annotations

from typing import Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from core.context import Context
from core.errors import DomainError, invalid
from core.scope import T_ALLOCATION, T_ORGANIZATION, Scope
from models.invoices import InvoiceKind, InvoiceMoves
from resolvers.common import pk_of, returns_errors
from resolvers.documents import writes
from schema.invoices.mutations import (
    CreateInvoiceError,
    CreateInvoiceInput,
    CreateInvoiceResult,
    SendInvoiceError,
    SendInvoiceResult,
    UpdateInvoiceError,
    UpdateInvoiceInput,
    UpdateInvoiceResult,
    VoidInvoiceError,
    VoidInvoiceResult,
)
from schema.payments.enums import PaymentGateway
from services.documents import transitions

FORM = writes.DocumentForm("invoice", end_date="due_date", end_field="dueDate")


KNOWN_GATEWAYS = frozenset(gateway.value for gateway in PaymentGateway)


async def _configured_gateways(session: AsyncSession, scope: Scope) -> list[str]:
    configured = await session.scalar(scope.select(T_ORGANIZATION, T_ORGANIZATION.c.payment_gateways))
    return [gateway for gateway in configured or [] if gateway in KNOWN_GATEWAYS]


async def _gateways(session: AsyncSession, scope: Scope, requested: list[PaymentGateway] | None) -> list[str]:
    """The gateways asked for (each one the organization has configured), or all configured ones."""
    configured = await _configured_gateways(session, scope)
    if requested is None:
        return configured
    chosen = list(dict.fromkeys(gateway.value for gateway in requested))
    missing = [gateway for gateway in chosen if gateway not in configured]
    if missing:
        raise invalid(f"The organization has not configured {', '.join(missing)}.", "paymentGateways")
    return chosen


@returns_errors(CreateInvoiceError)
async def create_invoice(info: strawberry.Info, input: CreateInvoiceInput) -> CreateInvoiceResult:
    """Staff: a new DRAFT invoice (REGULAR or RETAINER) for a contact, in its currency, numbered INV-000001, …"""
    ctx: Context = info.context

    async def own_columns(session: AsyncSession, contact: Any) -> dict[str, Any]:
        requested = input.payment_gateways if input.payment_gateways is not strawberry.UNSET else None
        return {"kind": input.kind.value, "payment_gateways": await _gateways(session, ctx.scope, requested)}

    title = "Retainer invoice" if input.kind == InvoiceKind.RETAINER else "Invoice"
    return await writes.create_document(  # type: ignore[no-any-return]
        ctx, FORM, input, operation="createInvoice", description=f"{title} {{number}} created", values=own_columns
    )


@returns_errors(UpdateInvoiceError)
async def update_invoice(info: strawberry.Info, input: UpdateInvoiceInput) -> UpdateInvoiceResult:
    """Staff: change an invoice in DRAFT, or SENT with nothing paid yet."""
    ctx: Context = info.context
    ctx.require_staff()
    invoice_pk = pk_of(input.id, "Invoice")
    values = writes.update_values(
        FORM, input, ("kind", "kind", "REGULAR or RETAINER"), ("payment_gateways", "paymentGateways", "[] for none")
    )
    if input.kind is not strawberry.UNSET:
        values["kind"] = input.kind.value
    async with ctx.db.transaction() as session:
        current, move = await writes.lock_for_update(session, ctx, FORM, invoice_pk, values, InvoiceMoves.UPDATE)
        if current.amount_paid > 0:
            raise DomainError("INVALID_STATE", "Only a draft or an unpaid sent invoice can be changed.", "id")
        if input.payment_gateways is not strawberry.UNSET:
            values["payment_gateways"] = await _gateways(session, ctx.scope, input.payment_gateways)
        changed = sorted(values)
        if await writes.replace_lines(session, ctx, FORM, input, current, values):
            if values["total"] < current.amount_paid:
                raise invalid("The total cannot drop below the amount already paid.", "lineItems")
            values["balance_due"] = values["total"] - current.amount_paid
            changed.append("line_items")
        if not values:
            return await writes.reload_document(ctx, "invoice", invoice_pk)
        await transitions.apply(
            session,
            transitions.Actor.of(ctx),
            "invoice",
            current,
            move,
            description=f"Invoice {current.number} updated",
            values=values,
            details={"fields": changed},
        )
    return await writes.reload_document(ctx, "invoice", invoice_pk)


def _has_an_amount(invoice: Any) -> None:
    if invoice.total <= 0:
        raise DomainError("EMPTY_DOCUMENT", "There is nothing to pay: add a line with an amount.", "id")


@returns_errors(SendInvoiceError)
async def send_invoice(info: strawberry.Info, id: strawberry.ID) -> SendInvoiceResult:
    """Staff: mark a DRAFT invoice SENT (the portal shows it and it can be paid), or send an unpaid one again."""
    moves = (InvoiceMoves.SEND, InvoiceMoves.SEND_AGAIN)
    return await writes.send_document(info.context, FORM, id, moves, guard=_has_an_amount)  # type: ignore[no-any-return]


@returns_errors(VoidInvoiceError)
async def void_invoice(info: strawberry.Info, id: strawberry.ID) -> VoidInvoiceResult:
    """Staff: cancel an invoice that has no payments. VOID is final; nothing is owed on it afterwards."""
    ctx: Context = info.context
    ctx.require_staff()
    invoice_pk = pk_of(id, "Invoice")

    async def unpaid(invoice: Any) -> None:
        allocated = await session.scalar(
            ctx.scope.select(T_ALLOCATION, T_ALLOCATION.c.id).where(T_ALLOCATION.c.invoice_id == invoice.id).limit(1)
        )
        if allocated is not None or invoice.amount_paid > 0:
            raise DomainError("HAS_PAYMENTS", "Payments are allocated to this invoice.", "id")

    async with ctx.db.transaction() as session:
        # the row lock also orders this against a concurrent recordPayment on the same invoice
        await transitions.transition(
            session,
            transitions.Actor.of(ctx),
            ctx.scope,
            "invoice",
            invoice_pk,
            (InvoiceMoves.VOID,),
            describe="Invoice {number} voided",
            guard=unpaid,
            values={"balance_due": 0},
            details=lambda invoice: {"previous_status": invoice.status},
        )
    return await writes.reload_document(ctx, "invoice", invoice_pk)


@strawberry.type
class Mutation:
    create_invoice: CreateInvoiceResult = strawberry.field(resolver=create_invoice)
    update_invoice: UpdateInvoiceResult = strawberry.field(resolver=update_invoice)
    send_invoice: SendInvoiceResult = strawberry.field(resolver=send_invoice)
    void_invoice: VoidInvoiceResult = strawberry.field(resolver=void_invoice)
