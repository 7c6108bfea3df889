"""Inputs, errors and results of the estimate mutations: staff's (create, update, send) and the client's answer."""

from __future__ import annotations

import datetime as dt

import strawberry

from schema.base import mutation_types
from schema.documents.mutations import LineItemInput
from schema.estimates.types import Estimate
from services.receipts import KEY_DESCRIPTION

AcceptEstimateError, AcceptEstimateResult = mutation_types(
    "AcceptEstimate",
    Estimate,
    "NOT_FOUND INVALID_STATE EXPIRED INVALID_INPUT",
    description="NOT_FOUND: no such estimate for you; EXPIRED: its expiry date has passed; "
    "INVALID_STATE: it is not SENT (already accepted, declined or invoiced); INVALID_INPUT: signatureName too long.",
)


DeclineEstimateError, DeclineEstimateResult = mutation_types(
    "DeclineEstimate",
    Estimate,
    "NOT_FOUND INVALID_STATE EXPIRED INVALID_INPUT",
    description="NOT_FOUND: no such estimate for you; EXPIRED: its expiry date has passed; "
    "INVALID_STATE: it is not SENT; INVALID_INPUT: reason too long.",
)


@strawberry.input(description="A new DRAFT estimate; the number comes from the organization's sequence.")
class CreateEstimateInput:
    contact_id: strawberry.ID = strawberry.field(description="The customer; the estimate takes its currency.")
    issue_date: dt.date | None = strawberry.field(default=strawberry.UNSET, description="Defaults to today (UTC).")
    expiry_date: dt.date | None = strawberry.field(default=strawberry.UNSET, description="Not before the issue date.")
    reference: str | None = strawberry.UNSET
    notes: str | None = strawberry.UNSET
    terms: str | None = strawberry.UNSET
    line_items: list[LineItemInput] = strawberry.field(default_factory=list)
    idempotency_key: str | None = strawberry.field(default=None, description=KEY_DESCRIPTION)


@strawberry.input(
    description=(
        "Changes to an estimate in DRAFT, SENT or DECLINED; fields left out stay as they are, null clears. "
        "Editing a DECLINED estimate makes it a DRAFT again (its history keeps the decline)."
    )
)
class UpdateEstimateInput:
    id: strawberry.ID
    issue_date: dt.date | None = strawberry.UNSET
    expiry_date: dt.date | None = strawberry.UNSET
    reference: str | None = strawberry.UNSET
    notes: str | None = strawberry.UNSET
    terms: str | None = strawberry.UNSET
    line_items: list[LineItemInput] | None = strawberry.field(
        default=strawberry.UNSET, description="Replaces every line when given."
    )


CreateEstimateError, CreateEstimateResult = mutation_types(
    "CreateEstimate", Estimate, "NOT_FOUND INVALID_INPUT IDEMPOTENCY_KEY_REUSED"
)


UpdateEstimateError, UpdateEstimateResult = mutation_types(
    "UpdateEstimate", Estimate, "NOT_FOUND INVALID_INPUT INVALID_STATE"
)


SendEstimateError, SendEstimateResult = mutation_types(
    "SendEstimate", Estimate, "NOT_FOUND INVALID_STATE EMPTY_DOCUMENT EXPIRED"
)
