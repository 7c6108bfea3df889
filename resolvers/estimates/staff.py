"""Estimate mutations (staff): create, update, send."""

from __future__ import annotations

from typing import Any

import strawberry
from sqlalchemy import func, insert, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.context import Context
from core.errors import DomainError
from core.scope import T_ESTIMATE
from resolvers.common import pk_of, returns_errors
from resolvers.documents.writes import given_fields, lock_document, mark_sent, reload_document, store_lines
from schema.estimates.mutations import (
    CreateEstimateError,
    CreateEstimateInput,
    CreateEstimateResult,
    SendEstimateError,
    SendEstimateResult,
    UpdateEstimateError,
    UpdateEstimateInput,
    UpdateEstimateResult,
)
from services import receipts
from services.documents.history import record_activity
from services.documents.lines import check_dates, clean_header, clean_lines, count_lines, lock_contact, today
from services.documents.numbering import next_number

HEADER_FIELDS = ("issue_date", "expiry_date", "reference", "notes", "terms")


# ACCEPTED and INVOICED are commitments the client made; they are never edited
EDITABLE = ("DRAFT", "SENT", "DECLINED")


@returns_errors(CreateEstimateError)
async def create_estimate(info: strawberry.Info, input: CreateEstimateInput) -> CreateEstimateResult:
    """Staff: a new DRAFT estimate for a contact, in the contact's currency, numbered EST-000001, …"""
    ctx: Context = info.context
    viewer = ctx.require_staff()
    contact_pk = pk_of(input.contact_id, "Contact", field="contactId")
    header = clean_header(given_fields(input, HEADER_FIELDS[1:]), end_date="expiry_date")
    header["issue_date"] = input.issue_date or today()
    check_dates(header["issue_date"], header.get("expiry_date"), "expiryDate")

    async def create(session: AsyncSession) -> int:
        contact = await lock_contact(session, ctx.scope, contact_pk)
        lines = clean_lines(input.line_items, contact.currency)
        # the number is taken last: its counter row stays locked until commit
        number = await next_number(session, organization_id=viewer.organization_id, kind="estimate")
        estimate_pk = await session.scalar(
            insert(T_ESTIMATE)
            .values(
                organization_id=viewer.organization_id,
                contact_id=contact_pk,
                number=number,
                status="DRAFT",
                currency=contact.currency,
                **header,
            )
            .returning(T_ESTIMATE.c.id)
        )
        assert estimate_pk is not None
        totals = await store_lines(
            session,
            kind="estimate",
            organization_id=viewer.organization_id,
            document_pk=estimate_pk,
            lines=lines,
            currency=contact.currency,
        )
        await session.execute(update(T_ESTIMATE).where(T_ESTIMATE.c.id == estimate_pk).values(**totals))
        await record_activity(
            session,
            viewer=viewer,
            organization_id=viewer.organization_id,
            contact_id=contact_pk,
            estimate_id=estimate_pk,
            kind="created",
            description=f"Estimate {number} created",
            ip_address=ctx.client_ip,
        )
        return estimate_pk

    async with ctx.db.transaction() as session:
        estimate_pk = await receipts.once(
            session, viewer, operation="createEstimate", input=input, result_type="Estimate", create=create
        )
    return await reload_document(ctx, "estimate", estimate_pk)


@returns_errors(UpdateEstimateError)
async def update_estimate(info: strawberry.Info, input: UpdateEstimateInput) -> UpdateEstimateResult:
    """Staff: change an estimate in DRAFT, SENT or DECLINED. A DECLINED estimate becomes a DRAFT again."""
    ctx: Context = info.context
    viewer = ctx.require_staff()
    estimate_pk = pk_of(input.id, "Estimate")
    values = clean_header(given_fields(input, HEADER_FIELDS), end_date="expiry_date")
    if input.line_items is None:
        raise DomainError("INVALID_INPUT", "lineItems cannot be null; send [] to remove every line.", "lineItems")
    async with ctx.db.transaction() as session:
        current = await lock_document(session, ctx, "estimate", estimate_pk)
        if current.status not in EDITABLE:
            raise DomainError("INVALID_STATE", f"A {current.status} estimate cannot be changed.", "id")
        check_dates(
            values.get("issue_date", current.issue_date), values.get("expiry_date", current.expiry_date), "expiryDate"
        )
        changed = sorted(values)
        if input.line_items is not strawberry.UNSET:
            lines = clean_lines(input.line_items, current.currency)
            values |= await store_lines(
                session,
                kind="estimate",
                organization_id=viewer.organization_id,
                document_pk=estimate_pk,
                lines=lines,
                currency=current.currency,
            )
            changed.append("line_items")
        revised = current.status == "DECLINED"
        if revised:
            # the decline stays in the history (details below); the estimate itself starts over as a draft
            values |= {"status": "DRAFT", "declined_at": None, "decline_reason": None}
        if not values:
            return await reload_document(ctx, "estimate", estimate_pk)
        await session.execute(
            update(T_ESTIMATE).where(T_ESTIMATE.c.id == estimate_pk).values(**values, updated_at=func.now())
        )
        details: dict[str, Any] = {"fields": changed}
        if revised:
            details |= {"previous_status": "DECLINED", "decline_reason": current.decline_reason}
        await record_activity(
            session,
            viewer=viewer,
            organization_id=viewer.organization_id,
            contact_id=current.contact_id,
            estimate_id=estimate_pk,
            kind="revised" if revised else "updated",
            description=(
                f"Declined estimate {current.number} revised as a draft"
                if revised
                else f"Estimate {current.number} updated"
            ),
            ip_address=ctx.client_ip,
            details=details,
        )
    return await reload_document(ctx, "estimate", estimate_pk)


@returns_errors(SendEstimateError)
async def send_estimate(info: strawberry.Info, id: strawberry.ID) -> SendEstimateResult:
    """Staff: mark a DRAFT estimate SENT (the portal shows it), or send a SENT one again."""
    ctx: Context = info.context
    viewer = ctx.require_staff()
    estimate_pk = pk_of(id, "Estimate")
    async with ctx.db.transaction() as session:
        current = await lock_document(session, ctx, "estimate", estimate_pk)
        if current.status not in ("DRAFT", "SENT"):
            raise DomainError("INVALID_STATE", f"A {current.status} estimate cannot be sent.", "id")
        if await count_lines(session, ctx.scope, owner="estimate", owner_id=estimate_pk) == 0:
            raise DomainError("EMPTY_DOCUMENT", "Add at least one line before sending.", "id")
        if current.expiry_date is not None and current.expiry_date < today():
            raise DomainError("EXPIRED", "The expiry date has passed; change it before sending.", "id")
        await mark_sent(session, ctx, viewer, "estimate", current)
    return await reload_document(ctx, "estimate", estimate_pk)


@strawberry.type
class Mutation:
    create_estimate: CreateEstimateResult = strawberry.field(resolver=create_estimate)
    update_estimate: UpdateEstimateResult = strawberry.field(resolver=update_estimate)
    send_estimate: SendEstimateResult = strawberry.field(resolver=send_estimate)
