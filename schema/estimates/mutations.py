"""Inputs, errors and results of the estimate mutations: staff's (create, update, send) and the client's answer."""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Annotated

import strawberry

from schema.base import UserError
from schema.documents.mutations import LineItemInput
from schema.estimates.types import Estimate
from services.receipts import KEY_DESCRIPTION


@strawberry.enum
class AcceptEstimateErrorCode(Enum):
    NOT_FOUND = "NOT_FOUND"
    INVALID_STATE = "INVALID_STATE"
    EXPIRED = "EXPIRED"
    INVALID_INPUT = "INVALID_INPUT"


@strawberry.enum
class DeclineEstimateErrorCode(Enum):
    NOT_FOUND = "NOT_FOUND"
    INVALID_STATE = "INVALID_STATE"
    EXPIRED = "EXPIRED"
    INVALID_INPUT = "INVALID_INPUT"


@strawberry.type(
    description=(
        "NOT_FOUND: no such estimate for you; EXPIRED: its expiry date has passed; INVALID_STATE: it is not SENT "
        "(already accepted, declined or invoiced); INVALID_INPUT: signatureName too long."
    )
)
class AcceptEstimateError(UserError):
    code: AcceptEstimateErrorCode


@strawberry.type(
    description=(
        "NOT_FOUND: no such estimate for you; EXPIRED: its expiry date has passed; INVALID_STATE: it is not SENT; "
        "INVALID_INPUT: reason too long."
    )
)
class DeclineEstimateError(UserError):
    code: DeclineEstimateErrorCode


AcceptEstimateResult = Annotated[Estimate | AcceptEstimateError, strawberry.union("AcceptEstimateResult")]


DeclineEstimateResult = Annotated[Estimate | DeclineEstimateError, strawberry.union("DeclineEstimateResult")]


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


@strawberry.enum
class CreateEstimateErrorCode(Enum):
    NOT_FOUND = "NOT_FOUND"
    INVALID_INPUT = "INVALID_INPUT"
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"


@strawberry.enum
class UpdateEstimateErrorCode(Enum):
    NOT_FOUND = "NOT_FOUND"
    INVALID_INPUT = "INVALID_INPUT"
    INVALID_STATE = "INVALID_STATE"


@strawberry.enum
class SendEstimateErrorCode(Enum):
    NOT_FOUND = "NOT_FOUND"
    INVALID_STATE = "INVALID_STATE"
    EMPTY_DOCUMENT = "EMPTY_DOCUMENT"
    EXPIRED = "EXPIRED"


@strawberry.type
class CreateEstimateError(UserError):
    code: CreateEstimateErrorCode


@strawberry.type
class UpdateEstimateError(UserError):
    code: UpdateEstimateErrorCode


@strawberry.type
class SendEstimateError(UserError):
    code: SendEstimateErrorCode


CreateEstimateResult = Annotated[Estimate | CreateEstimateError, strawberry.union("CreateEstimateResult")]


UpdateEstimateResult = Annotated[Estimate | UpdateEstimateError, strawberry.union("UpdateEstimateResult")]


SendEstimateResult = Annotated[Estimate | SendEstimateError, strawberry.union("SendEstimateResult")]
