"""Reviews: a portal user rates the organization (one review per person; a new one replaces the old)."""

from __future__ import annotations

from decimal import Decimal

import strawberry
from sqlalchemy import func
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from core import validation
from core.context import Context
from core.errors import DomainError, invalid
from core.scope import T_ORGANIZATION, T_REVIEW
from resolvers.common import create_once, record_action, returns_errors
from resolvers.pagination import Paging, paginate
from schema.base import After, Before, First, Last
from schema.conversations.mutations import MAX_REVIEW, SubmitReviewError, SubmitReviewInput, SubmitReviewResult
from schema.conversations.types import Review, ReviewConnection

AVERAGE_PLACES = Decimal("0.01")


@returns_errors(SubmitReviewError)
async def submit_review(info: strawberry.Info, input: SubmitReviewInput) -> SubmitReviewResult:
    """Portal: rate the organization 1–5 with an optional text, while it takes reviews."""
    ctx: Context = info.context
    viewer = ctx.require_portal()
    if not 1 <= input.rating <= 5:
        raise invalid("rating must be between 1 and 5.", "rating")
    text = validation.text(input.text, "text", max_length=MAX_REVIEW)

    async def submit(session: AsyncSession) -> int:
        allowed = await session.scalar(ctx.scope.select(T_ORGANIZATION, T_ORGANIZATION.c.portal_allow_reviews))
        if not allowed:
            raise DomainError("FEATURE_DISABLED", "This organization does not take reviews.")
        statement = insert(T_REVIEW).values(
            organization_id=viewer.organization_id,
            contact_id=viewer.contact_id,
            contact_person_id=viewer.contact_person_id,
            rating=input.rating,
            text=text,
        )
        # one review per person (unique index): a second submission replaces the first
        review_pk = await session.scalar(
            statement.on_conflict_do_update(
                index_elements=[T_REVIEW.c.contact_person_id],
                set_={"rating": statement.excluded.rating, "text": statement.excluded.text, "updated_at": func.now()},
            ).returning(T_REVIEW.c.id)
        )
        await record_action(
            ctx,
            session,
            kind="review_submitted",
            description=f"Review submitted: {input.rating} of 5",
            contact_id=viewer.contact_id,
            details={"review_id": review_pk, "rating": input.rating},
        )
        return int(review_pk)

    review_pk = await create_once(ctx, operation="submitReview", input=input, result_type="Review", create=submit)
    async with ctx.db.session() as session:
        row = (await session.execute(ctx.scope.where_id(T_REVIEW, review_pk))).one()
    return Review.from_row(row)


async def reviews(
    info: strawberry.Info, first: First = None, after: After = None, last: Last = None, before: Before = None
) -> ReviewConnection:
    """Staff: the organization's reviews, newest first, with the average rating. Portal: the viewer's own."""
    ctx: Context = info.context
    stmt = ctx.scope.select(T_REVIEW)
    page = await paginate(
        ctx.db,
        stmt,
        order=[T_REVIEW.c.id],
        kinds=[int],
        descending=True,
        paging=Paging(first, after, last, before),
        to_node=Review.from_row,
    )

    async def average() -> Decimal | None:
        async with ctx.db.session() as session:
            value = await session.scalar(ctx.scope.select(T_REVIEW, func.avg(T_REVIEW.c.rating)))
        return None if value is None else Decimal(value).quantize(AVERAGE_PLACES)

    return ReviewConnection(edges=page.edges, page_info=page.page_info, count=page.count, average=average)


@strawberry.type
class Query:
    reviews: ReviewConnection = strawberry.field(resolver=reviews)


@strawberry.type
class Mutation:
    submit_review: SubmitReviewResult = strawberry.field(resolver=submit_review)
