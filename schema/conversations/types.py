"""Comments and reviews."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from decimal import Decimal
from enum import Enum
from typing import Any

import strawberry

from core.ids import to_global_id
from schema.base import Edge, Node, PageInfo, from_columns
from schema.contacts.types import ContactPerson


@strawberry.enum
class CommentAuthorKind(Enum):
    STAFF = "STAFF"
    CLIENT = "CLIENT"


@strawberry.type(description="A comment on an estimate, an invoice or a project.")
class Comment(Node):
    body: str = strawberry.field(description="Plain text.")
    visible_in_portal: bool = strawberry.field(description="Staff comments reach the portal only when set.")
    author_kind: CommentAuthorKind
    author_name: str
    created_at: dt.datetime
    target_id: strawberry.ID = strawberry.field(
        description="The estimate, invoice or project it is on: the thread a `commentAdded` event belongs to "
        "(`node(id:)` reads it)."
    )

    @staticmethod
    def from_row(row: Any) -> Comment:
        return from_columns(
            Comment,
            row,
            author_kind=CommentAuthorKind.CLIENT if row.author_contact_person_id else CommentAuthorKind.STAFF,
            author_name=row.author_name or "",
            target_id=strawberry.ID(comment_target(row)),
        )


def comment_target(row: Any) -> str:
    """The global id of what a comment row is on (exactly one of its three parents)."""
    for type_name, column in (("Estimate", "estimate_id"), ("Invoice", "invoice_id"), ("Project", "project_id")):
        pk = getattr(row, column, None)
        if pk is not None:
            return to_global_id(type_name, pk)
    raise ValueError(f"comment {row.id} is on nothing")


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
        return from_columns(Review, row)


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
