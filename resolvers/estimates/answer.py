"""acceptEstimate and declineEstimate: the client's answer to a SENT estimate.

Each answer is a move of ``models.estimates.EstimateMoves`` carried out by ``services.documents.transitions``:
the estimate's row is locked through the viewer's scope before its status is read, so of a concurrent accept and
decline exactly one wins; the other sees the winner's status and gets INVALID_STATE.
"""

from __future__ import annotations

from typing import Annotated, Any

import strawberry

from core import validation
from core.context import Context
from core.errors import DomainError
from models.documents import Move
from models.estimates import EstimateMoves, EstimateStatus
from resolvers.common import pk_of, returns_errors
from schema.estimates.mutations import (
    AcceptEstimateError,
    AcceptEstimateResult,
    DeclineEstimateError,
    DeclineEstimateResult,
)
from schema.estimates.types import Estimate
from services.documents import transitions

MAX_SIGNATURE = 200


MAX_REASON = 5000


async def _unexpired(estimate: Any) -> None:
    if estimate.effective_status == EstimateStatus.EXPIRED:
        raise DomainError("EXPIRED", f"Estimate {estimate.number} expired on {estimate.expiry_date}.", "id")


async def answer(
    ctx: Context, estimate_pk: int, move: Move, *, values: dict[str, Any], details: dict[str, Any]
) -> Estimate:
    """The client's ``move`` on a SENT, unexpired estimate: its columns, a history entry naming who answered; the
    estimate as the move left it (the row the update returned: the viewer sees it, it is not read again)."""
    async with ctx.db.transaction() as session:
        moved = await transitions.transition(
            session,
            transitions.Actor.of(ctx),
            ctx.scope,
            "estimate",
            estimate_pk,
            (move,),
            describe=f"Estimate {{number}} {move.activity} by {{actor}}",
            guard=_unexpired,
            values=values,
            details={key: value for key, value in details.items() if value} or None,
        )
    return Estimate.from_row(moved)


@returns_errors(AcceptEstimateError)
async def accept_estimate(
    info: strawberry.Info,
    id: strawberry.ID,
    signature_name: Annotated[
        str | None, strawberry.argument(description="The name the client typed as a signature (at most 200 chars).")
    ] = None,
) -> AcceptEstimateResult:
    """Portal: accept a SENT, unexpired estimate; records who, when, from which address and the typed signature."""
    ctx: Context = info.context
    viewer = ctx.require_portal()
    estimate_pk = pk_of(id, "Estimate")
    signature = validation.text(signature_name, "signatureName", max_length=MAX_SIGNATURE)
    values = {"accepted_by_id": viewer.contact_person_id, "accepted_ip": ctx.client_ip, "signature_name": signature}
    return await answer(ctx, estimate_pk, EstimateMoves.ACCEPT, values=values, details={"signature_name": signature})


@returns_errors(DeclineEstimateError)
async def decline_estimate(
    info: strawberry.Info,
    id: strawberry.ID,
    reason: Annotated[
        str | None, strawberry.argument(description="Why (shown to staff; at most 5,000 characters).")
    ] = None,
) -> DeclineEstimateResult:
    """Portal: decline a SENT, unexpired estimate. Staff may revise it and send it again."""
    ctx: Context = info.context
    ctx.require_portal()
    estimate_pk = pk_of(id, "Estimate")
    cleaned = validation.text(reason, "reason", max_length=MAX_REASON)
    return await answer(
        ctx, estimate_pk, EstimateMoves.DECLINE, values={"decline_reason": cleaned}, details={"reason": cleaned}
    )


@strawberry.type
class Mutation:
    accept_estimate: AcceptEstimateResult = strawberry.field(resolver=accept_estimate)
    decline_estimate: DeclineEstimateResult = strawberry.field(resolver=decline_estimate)
