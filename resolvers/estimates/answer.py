"""acceptEstimate and declineEstimate: the client's answer to a SENT estimate.

Both lock the estimate's row through the viewer's scope (``SELECT … FOR UPDATE``) before reading its status, so
of a concurrent accept and decline exactly one wins; the other sees the winner's status and gets INVALID_STATE.
"""

from __future__ import annotations

import contextlib
from typing import Annotated, Any

import strawberry
from sqlalchemy import func, update
from sqlalchemy.ext.asyncio import AsyncSession

from core import validation
from core.auth import PortalViewer
from core.context import Context
from core.errors import DomainError
from core.scope import T_CONTACT_PERSON, T_ESTIMATE
from resolvers import reads
from resolvers.common import pk_of, returns_errors
from schema.estimates.mutations import (
    AcceptEstimateError,
    AcceptEstimateResult,
    DeclineEstimateError,
    DeclineEstimateResult,
)
from schema.estimates.types import Estimate
from services.documents.history import record_activity
from subscriptions.events import DocumentStatusChanged, emit

MAX_SIGNATURE = 200


MAX_REASON = 5000


async def lock_sent_estimate(session: AsyncSession, ctx: Context, estimate_pk: int) -> Any:
    """The estimate row, locked, if it is SENT and unexpired; raises NOT_FOUND, EXPIRED or INVALID_STATE."""
    row = (
        await session.execute(
            ctx.scope.select(T_ESTIMATE, T_ESTIMATE, reads.ESTIMATE_STATUS.label("effective_status"))
            .where(T_ESTIMATE.c.id == estimate_pk)
            .with_for_update(of=T_ESTIMATE)
        )
    ).one_or_none()
    if row is None:
        raise DomainError("NOT_FOUND", "No estimate with this id.", "id")
    if row.effective_status == "EXPIRED":
        raise DomainError("EXPIRED", f"Estimate {row.number} expired on {row.expiry_date}.", "id")
    if row.status != "SENT":
        raise DomainError("INVALID_STATE", f"Estimate {row.number} is {row.status}.", "id")
    return row


async def person_name(session: AsyncSession, ctx: Context, viewer: PortalViewer) -> str:
    """The portal user's full name, for history descriptions."""
    row = (await session.execute(ctx.scope.where_id(T_CONTACT_PERSON, viewer.contact_person_id))).one()
    return " ".join(part for part in (row.first_name, row.last_name) if part)


async def reload_estimate(ctx: Context, estimate_pk: int) -> Estimate:
    with contextlib.suppress(KeyError):  # strawberry's clear() raises for a key it never loaded
        ctx.loaders.estimate.clear(estimate_pk)
    return await ctx.loaders.estimate.load(estimate_pk)  # type: ignore[return-value]


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
    async with ctx.db.transaction() as session:
        current = await lock_sent_estimate(session, ctx, estimate_pk)
        name = await person_name(session, ctx, viewer)
        await session.execute(
            update(T_ESTIMATE)
            .where(T_ESTIMATE.c.id == estimate_pk)
            .values(
                status="ACCEPTED",
                accepted_at=func.now(),
                accepted_by_id=viewer.contact_person_id,
                accepted_ip=ctx.client_ip,
                signature_name=signature,
                updated_at=func.now(),
            )
        )
        await record_activity(
            session,
            viewer=viewer,
            organization_id=viewer.organization_id,
            contact_id=current.contact_id,
            estimate_id=estimate_pk,
            kind="accepted",
            description=f"Estimate {current.number} accepted by {name}",
            client_visible=True,
            ip_address=ctx.client_ip,
            details={"signature_name": signature} if signature else None,
        )
        emit(
            session,
            ctx.broker,
            viewer.organization_id,
            DocumentStatusChanged(
                document_type="ESTIMATE",
                document_id=estimate_pk,
                contact_id=current.contact_id,
                previous_status="SENT",
                status="ACCEPTED",
                actor_contact_person_id=viewer.contact_person_id,
            ),
        )
    return await reload_estimate(ctx, estimate_pk)


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
    viewer = ctx.require_portal()
    estimate_pk = pk_of(id, "Estimate")
    cleaned_reason = validation.text(reason, "reason", max_length=MAX_REASON)
    async with ctx.db.transaction() as session:
        current = await lock_sent_estimate(session, ctx, estimate_pk)
        name = await person_name(session, ctx, viewer)
        await session.execute(
            update(T_ESTIMATE)
            .where(T_ESTIMATE.c.id == estimate_pk)
            .values(status="DECLINED", declined_at=func.now(), decline_reason=cleaned_reason, updated_at=func.now())
        )
        await record_activity(
            session,
            viewer=viewer,
            organization_id=viewer.organization_id,
            contact_id=current.contact_id,
            estimate_id=estimate_pk,
            kind="declined",
            description=f"Estimate {current.number} declined by {name}",
            client_visible=True,
            ip_address=ctx.client_ip,
            details={"reason": cleaned_reason} if cleaned_reason else None,
        )
        emit(
            session,
            ctx.broker,
            viewer.organization_id,
            DocumentStatusChanged(
                document_type="ESTIMATE",
                document_id=estimate_pk,
                contact_id=current.contact_id,
                previous_status="SENT",
                status="DECLINED",
                actor_contact_person_id=viewer.contact_person_id,
            ),
        )
    return await reload_estimate(ctx, estimate_pk)


@strawberry.type
class Mutation:
    accept_estimate: AcceptEstimateResult = strawberry.field(resolver=accept_estimate)
    decline_estimate: DeclineEstimateResult = strawberry.field(resolver=decline_estimate)
