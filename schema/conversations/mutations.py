"""Comment and review mutations."""

from __future__ import annotations

import strawberry

from schema.base import mutation_types
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


AddCommentError, AddCommentResult = mutation_types(
    "AddComment", Comment, "NOT_FOUND INVALID_INPUT IDEMPOTENCY_KEY_REUSED"
)


SetCommentVisibilityError, SetCommentVisibilityResult = mutation_types(
    "SetCommentVisibility",
    Comment,
    "NOT_FOUND INVALID_STATE",
    description="INVALID_STATE: a client's comment is always visible; only staff comments change.",
)


@strawberry.input(description="A rating of the organization; a person's new review replaces their previous one.")
class SubmitReviewInput:
    rating: int = strawberry.field(description="1 to 5.")
    text: str | None = strawberry.field(default=None, description=f"At most {MAX_REVIEW:,} characters.")
    idempotency_key: str | None = strawberry.field(default=None, description=KEY_DESCRIPTION)


SubmitReviewError, SubmitReviewResult = mutation_types(
    "SubmitReview",
    Review,
    "INVALID_INPUT FEATURE_DISABLED IDEMPOTENCY_KEY_REUSED",
    description="FEATURE_DISABLED: the organization does not take reviews.",
)
