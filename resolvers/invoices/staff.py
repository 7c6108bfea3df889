"""Invoice mutations (staff): create, update, send, void."""

from __future__ import annotations

import strawberry
from sqlalchemy import func, insert, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.context import Context
from core.errors import DomainError
from core.scope import T_ALLOCATION, T_INVOICE, T_ORGANIZATION, Scope
from resolvers.common import pk_of, returns_errors
from resolvers.documents.writes import given_fields, lock_document, mark_sent, reload_document, store_lines
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
from services import receipts
from services.documents.history import record_activity
from services.documents.lines import check_dates, clean_header, clean_lines, count_lines, lock_contact, today
from services.documents.numbering import next_number
from subscriptions.events import DocumentStatusChanged, emit

HEADER_FIELDS = ("issue_date", "due_date", "reference", "notes", "terms")


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
        raise DomainError(
            "INVALID_INPUT", f"The organization has not configured {', '.join(missing)}.", "paymentGateways"
        )
    return chosen


@returns_errors(CreateInvoiceError)
async def create_invoice(info: strawberry.Info, input: CreateInvoiceInput) -> CreateInvoiceResult:
    """Staff: a new DRAFT invoice (REGULAR or RETAINER) for a contact, in its currency, numbered INV-000001, …"""
    ctx: Context = info.context
    viewer = ctx.require_staff()
    contact_pk = pk_of(input.contact_id, "Contact", field="contactId")
    header = clean_header(given_fields(input, HEADER_FIELDS[1:]), end_date="due_date")
    header["issue_date"] = input.issue_date or today()
    check_dates(header["issue_date"], header.get("due_date"), "dueDate")

    async def create(session: AsyncSession) -> int:
        contact = await lock_contact(session, ctx.scope, contact_pk)
        lines = clean_lines(input.line_items, contact.currency)
        requested = input.payment_gateways if input.payment_gateways is not strawberry.UNSET else None
        gateways = await _gateways(session, ctx.scope, requested)
        # the number is taken last: its counter row stays locked until commit
        number = await next_number(session, organization_id=viewer.organization_id, kind="invoice")
        invoice_pk = await session.scalar(
            insert(T_INVOICE)
            .values(
                organization_id=viewer.organization_id,
                contact_id=contact_pk,
                number=number,
                kind=input.kind.value,
                status="DRAFT",
                currency=contact.currency,
                payment_gateways=gateways,
                **header,
            )
            .returning(T_INVOICE.c.id)
        )
        assert invoice_pk is not None
        totals = await store_lines(
            session,
            kind="invoice",
            organization_id=viewer.organization_id,
            document_pk=invoice_pk,
            lines=lines,
            currency=contact.currency,
        )
        await session.execute(
            update(T_INVOICE)
            .where(T_INVOICE.c.id == invoice_pk)
            .values(**totals, amount_paid=0, balance_due=totals["total"])
        )
        await record_activity(
            session,
            viewer=viewer,
            organization_id=viewer.organization_id,
            contact_id=contact_pk,
            invoice_id=invoice_pk,
            kind="created",
            description=f"{'Retainer invoice' if input.kind.value == 'RETAINER' else 'Invoice'} {number} created",
            ip_address=ctx.client_ip,
        )
        return invoice_pk

    async with ctx.db.transaction() as session:
        invoice_pk = await receipts.once(
            session, viewer, operation="createInvoice", input=input, result_type="Invoice", create=create
        )
    return await reload_document(ctx, "invoice", invoice_pk)


@returns_errors(UpdateInvoiceError)
async def update_invoice(info: strawberry.Info, input: UpdateInvoiceInput) -> UpdateInvoiceResult:
    """Staff: change an invoice in DRAFT, or SENT with nothing paid yet."""
    ctx: Context = info.context
    viewer = ctx.require_staff()
    invoice_pk = pk_of(input.id, "Invoice")
    values = clean_header(given_fields(input, HEADER_FIELDS), end_date="due_date")
    for name, field, hint in (
        ("kind", "kind", "REGULAR or RETAINER"),
        ("payment_gateways", "paymentGateways", "[] for none"),
        ("line_items", "lineItems", "[] to remove every line"),
    ):
        if getattr(input, name) is None:
            raise DomainError("INVALID_INPUT", f"{field} cannot be null; send {hint}.", field)
    if input.kind is not strawberry.UNSET:
        values["kind"] = input.kind.value
    async with ctx.db.transaction() as session:
        current = await lock_document(session, ctx, "invoice", invoice_pk)
        if current.status not in ("DRAFT", "SENT") or current.amount_paid > 0:
            raise DomainError("INVALID_STATE", "Only a draft or an unpaid sent invoice can be changed.", "id")
        check_dates(values.get("issue_date", current.issue_date), values.get("due_date", current.due_date), "dueDate")
        if input.payment_gateways is not strawberry.UNSET:
            values["payment_gateways"] = await _gateways(session, ctx.scope, input.payment_gateways)
        changed = sorted(values)
        if input.line_items is not strawberry.UNSET:
            lines = clean_lines(input.line_items, current.currency)
            values |= await store_lines(
                session,
                kind="invoice",
                organization_id=viewer.organization_id,
                document_pk=invoice_pk,
                lines=lines,
                currency=current.currency,
            )
            if values["total"] < current.amount_paid:
                raise DomainError("INVALID_INPUT", "The total cannot drop below the amount already paid.", "lineItems")
            values["balance_due"] = values["total"] - current.amount_paid
            changed.append("line_items")
        if not values:
            return await reload_document(ctx, "invoice", invoice_pk)
        await session.execute(
            update(T_INVOICE).where(T_INVOICE.c.id == invoice_pk).values(**values, updated_at=func.now())
        )
        await record_activity(
            session,
            viewer=viewer,
            organization_id=viewer.organization_id,
            contact_id=current.contact_id,
            invoice_id=invoice_pk,
            kind="updated",
            description=f"Invoice {current.number} updated",
            ip_address=ctx.client_ip,
            details={"fields": changed},
        )
    return await reload_document(ctx, "invoice", invoice_pk)


@returns_errors(SendInvoiceError)
async def send_invoice(info: strawberry.Info, id: strawberry.ID) -> SendInvoiceResult:
    """Staff: mark a DRAFT invoice SENT (the portal shows it and it can be paid), or send an unpaid one again."""
    ctx: Context = info.context
    viewer = ctx.require_staff()
    invoice_pk = pk_of(id, "Invoice")
    async with ctx.db.transaction() as session:
        current = await lock_document(session, ctx, "invoice", invoice_pk)
        if current.status not in ("DRAFT", "SENT", "PARTIALLY_PAID"):
            raise DomainError("INVALID_STATE", f"A {current.status} invoice cannot be sent.", "id")
        if await count_lines(session, ctx.scope, owner="invoice", owner_id=invoice_pk) == 0 or current.total <= 0:
            raise DomainError("EMPTY_DOCUMENT", "There is nothing to pay: add a line with an amount.", "id")
        await mark_sent(session, ctx, viewer, "invoice", current)
    return await reload_document(ctx, "invoice", invoice_pk)


@returns_errors(VoidInvoiceError)
async def void_invoice(info: strawberry.Info, id: strawberry.ID) -> VoidInvoiceResult:
    """Staff: cancel an invoice that has no payments. VOID is final; nothing is owed on it afterwards."""
    ctx: Context = info.context
    viewer = ctx.require_staff()
    invoice_pk = pk_of(id, "Invoice")
    async with ctx.db.transaction() as session:
        # the row lock also orders this against a concurrent recordPayment on the same invoice
        current = await lock_document(session, ctx, "invoice", invoice_pk)
        if current.status == "VOID":
            raise DomainError("INVALID_STATE", "The invoice is already void.", "id")
        allocated = await session.scalar(
            ctx.scope.select(T_ALLOCATION, T_ALLOCATION.c.id).where(T_ALLOCATION.c.invoice_id == invoice_pk).limit(1)
        )
        if allocated is not None or current.amount_paid > 0:
            raise DomainError("HAS_PAYMENTS", "Payments are allocated to this invoice.", "id")
        await session.execute(
            update(T_INVOICE)
            .where(T_INVOICE.c.id == invoice_pk)
            .values(status="VOID", voided_at=func.now(), balance_due=0, updated_at=func.now())
        )
        emit(
            session,
            ctx.broker,
            viewer.organization_id,
            DocumentStatusChanged(
                document_type="INVOICE",
                document_id=invoice_pk,
                contact_id=current.contact_id,
                previous_status=current.status,
                status="VOID",
                actor_staff_id=viewer.staff_user_id,
            ),
        )
        await record_activity(
            session,
            viewer=viewer,
            organization_id=viewer.organization_id,
            contact_id=current.contact_id,
            invoice_id=invoice_pk,
            kind="voided",
            description=f"Invoice {current.number} voided",
            ip_address=ctx.client_ip,
            details={"previous_status": current.status},
        )
    return await reload_document(ctx, "invoice", invoice_pk)


@strawberry.type
class Mutation:
    create_invoice: CreateInvoiceResult = strawberry.field(resolver=create_invoice)
    update_invoice: UpdateInvoiceResult = strawberry.field(resolver=update_invoice)
    send_invoice: SendInvoiceResult = strawberry.field(resolver=send_invoice)
    void_invoice: VoidInvoiceResult = strawberry.field(resolver=void_invoice)
