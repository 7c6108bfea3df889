"""Comment and review mutations, and reviews."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any

import strawberry

from core.ids import to_global_id
from schema.base import Edge, Node, PageInfo, UserError
from schema.document import Comment
from schema.people import ContactPerson
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


@strawberry.type(description="A contact person's rating of the organization.")
class Review(Node):
    rating: int
    text: str | None
    created_at: dt.datetime
    updated_at: dt.datetime | None = strawberry.field(description="When it last replaced an earlier review.")
    contact_person_id: strawberry.Private[int]

    @strawberry.field(description="Who wrote it.")
    async def contact_person(self, info: strawberry.Info) -> ContactPerson | None:
        return await info.context.loaders.contact_person.load(self.contact_person_id)  # type: ignore[no-any-return]

    @staticmethod
    def from_row(row: Any) -> Review:
        return Review(
            id=strawberry.ID(to_global_id("Review", row.id)),
            rating=row.rating,
            text=row.text,
            created_at=row.created_at,
            updated_at=row.updated_at,
            contact_person_id=row.contact_person_id,
        )


SubmitReviewResult = Annotated[Review | SubmitReviewError, strawberry.union("SubmitReviewResult")]


@strawberry.type(description="Reviews, newest first. Staff see the organization's; a portal user their own.")
class ReviewConnection:
    edges: list[Edge[Review]]
    page_info: PageInfo
    count: strawberry.Private[Callable[[], Awaitable[int]]]
    average: strawberry.Private[Callable[[], Awaitable[Decimal | None]]]

    @strawberry.field(description="Number of reviews, across all pages.")
    async def total_count(self) -> int:
        return await self.count()

    @strawberry.field(description="Mean rating of all reviews (two decimals); null when there are none.")
    async def average_rating(self) -> Decimal | None:
        return await self.average()
