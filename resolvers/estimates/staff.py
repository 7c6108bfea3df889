"""Estimate mutations (staff): create, update (revise), send."""

from __future__ import annotations

from typing import Any

import strawberry

from core.context import Context
from core.errors import DomainError
from models.documents import moves_of
from models.estimates import ESTIMATE_REASONS, EstimateMoves
from resolvers.common import pk_of, returns_errors
from resolvers.documents import writes
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
from services.documents import transitions
from services.documents.lines import today

FORM = writes.DocumentForm("estimate", end_date="expiry_date", end_field="expiryDate")


@returns_errors(CreateEstimateError)
async def create_estimate(info: strawberry.Info, input: CreateEstimateInput) -> CreateEstimateResult:
    """Staff: a new DRAFT estimate for a contact, in the contact's currency, numbered EST-000001, …"""
    return await writes.create_document(  # type: ignore[no-any-return]
        info.context, FORM, input, operation="createEstimate", description="Estimate {number} created"
    )


def _answer_columns(status: str) -> list[str]:
    """What the client's answer that led to ``status`` wrote besides it (its time, its reason): a revise clears it."""
    times = [move.at for move in moves_of(EstimateMoves) if move.to == status and move.at]
    reason = ESTIMATE_REASONS.get(status)
    return [*times, *([reason] if reason else [])]


def _label(status: str) -> str:
    return status.replace("_", " ").capitalize()


@returns_errors(UpdateEstimateError)
async def update_estimate(info: strawberry.Info, input: UpdateEstimateInput) -> UpdateEstimateResult:
    """Staff: change an estimate in DRAFT, SENT or DECLINED. A DECLINED estimate becomes a DRAFT again (a revise)."""
    ctx: Context = info.context
    ctx.require_staff()
    estimate_pk = pk_of(input.id, "Estimate")
    values = writes.update_values(FORM, input)
    async with ctx.db.transaction() as session:
        current, move = await writes.lock_for_update(
            session, ctx, FORM, estimate_pk, values, EstimateMoves.REVISE, EstimateMoves.UPDATE
        )
        changed = sorted(values)
        if await writes.replace_lines(session, ctx, FORM, input, current, values):
            changed.append("line_items")
        details: dict[str, Any] = {"fields": changed}
        description = f"Estimate {current.number} updated"
        if move is EstimateMoves.REVISE:
            # the client's answer stays in the history (details below); the estimate itself starts over as a draft
            answered = _answer_columns(current.status)
            values |= dict.fromkeys(answered, None)
            reason = ESTIMATE_REASONS.get(current.status)
            details |= {"previous_status": current.status, **({reason: getattr(current, reason)} if reason else {})}
            description = f"{_label(current.status)} estimate {current.number} revised as a draft"
        elif not values:
            return await writes.reload_document(ctx, "estimate", estimate_pk)
        await transitions.apply(
            session,
            transitions.Actor.of(ctx),
            "estimate",
            current,
            move,
            description=description,
            values=values,
            details=details,
        )
    return await writes.reload_document(ctx, "estimate", estimate_pk)


def _unexpired(estimate: Any) -> None:
    if estimate.expiry_date is not None and estimate.expiry_date < today():
        raise DomainError("EXPIRED", "The expiry date has passed; change it before sending.", "id")


@returns_errors(SendEstimateError)
async def send_estimate(info: strawberry.Info, id: strawberry.ID) -> SendEstimateResult:
    """Staff: mark a DRAFT estimate SENT (the portal shows it), or send a SENT one again."""
    moves = (EstimateMoves.SEND, EstimateMoves.SEND_AGAIN)
    return await writes.send_document(info.context, FORM, id, moves, guard=_unexpired)  # type: ignore[no-any-return]


@strawberry.type
class Mutation:
    create_estimate: CreateEstimateResult = strawberry.field(resolver=create_estimate)
    update_estimate: UpdateEstimateResult = strawberry.field(resolver=update_estimate)
    send_estimate: SendEstimateResult = strawberry.field(resolver=send_estimate)
