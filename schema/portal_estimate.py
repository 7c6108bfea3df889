"""What the portal does with a document it opens: record the view, accept or decline an estimate."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

import strawberry

from schema.base import UserError
from schema.document import Estimate, Invoice


@strawberry.enum
class RecordViewErrorCode(Enum):
    NOT_FOUND = "NOT_FOUND"


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


@strawberry.type
class RecordViewError(UserError):
    code: RecordViewErrorCode


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


RecordViewResult = Annotated[Estimate | Invoice | RecordViewError, strawberry.union("RecordViewResult")]
AcceptEstimateResult = Annotated[Estimate | AcceptEstimateError, strawberry.union("AcceptEstimateResult")]
DeclineEstimateResult = Annotated[Estimate | DeclineEstimateError, strawberry.union("DeclineEstimateResult")]
