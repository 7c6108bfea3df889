"""Comment and review mutations."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

import strawberry

from schema.base import UserError
from schema.conversations.types import Comment, Review
from services.receipts import KEY_DESCRIPTION

MAX_COMMENT = 5000


MAX_REVIEW = 5000


@strawberry.input(description="A comment on an estimate, an invoice or a project.")
class AddCommentInput:
    target_id: strawberry.ID = strawberry.field(description="The estimate, invoice or project.")
    body: str = strawberry.field(description=f"Plain text, 1 to {MAX_COMMENT:,} characters (trimmed).")
    visible_in_portal: bool | None = strawberry.field(
        default=None,
        description=(
            "Staff: show the comment in the portal (default false). Ignored for portal users: a client's comment "
            "is always visible to staff and to every portal person of the contact."
        ),
    )
    idempotency_key: str | None = strawberry.field(default=None, description=KEY_DESCRIPTION)


@strawberry.enum
class AddCommentErrorCode(Enum):
    NOT_FOUND = "NOT_FOUND"
    INVALID_INPUT = "INVALID_INPUT"
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"


@strawberry.type
class AddCommentError(UserError):
    code: AddCommentErrorCode


@strawberry.enum
class SetCommentVisibilityErrorCode(Enum):
    NOT_FOUND = "NOT_FOUND"
    INVALID_STATE = "INVALID_STATE"


@strawberry.type(description="INVALID_STATE: a client's comment is always visible; only staff comments change.")
class SetCommentVisibilityError(UserError):
    code: SetCommentVisibilityErrorCode


AddCommentResult = Annotated[Comment | AddCommentError, strawberry.union("AddCommentResult")]


SetCommentVisibilityResult = Annotated[
    Comment | SetCommentVisibilityError, strawberry.union("SetCommentVisibilityResult")
]


@strawberry.input(description="A rating of the organization; a person's new review replaces their previous one.")
class SubmitReviewInput:
    rating: int = strawberry.field(description="1 to 5.")
    text: str | None = strawberry.field(default=None, description=f"At most {MAX_REVIEW:,} characters.")
    idempotency_key: str | None = strawberry.field(default=None, description=KEY_DESCRIPTION)


@strawberry.enum
class SubmitReviewErrorCode(Enum):
    INVALID_INPUT = "INVALID_INPUT"
    FEATURE_DISABLED = "FEATURE_DISABLED"
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"


@strawberry.type(description="FEATURE_DISABLED: the organization does not take reviews.")
class SubmitReviewError(UserError):
    code: SubmitReviewErrorCode


SubmitReviewResult = Annotated[Review | SubmitReviewError, strawberry.union("SubmitReviewResult")]
