"""Shared GraphQL building blocks: Node, UserError, connections, date ranges."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

import strawberry
from strawberry.extensions import FieldExtension

T = TypeVar("T")


class StaffOnly(FieldExtension):
    """A field only staff may read: for a portal viewer it is null (an empty list for a list), whatever the row
    holds. ``tests/security/test_portal_fields.py`` lists every field a portal viewer can read, so a new field is
    either in that list on purpose or marked with ``staff_only``."""

    def __init__(self, empty: Any = None) -> None:
        self.empty = empty

    def resolve(self, next_: Callable[..., Any], source: Any, info: strawberry.Info, **kwargs: Any) -> Any:
        if not _is_staff(info):
            return self.empty() if callable(self.empty) else self.empty
        return next_(source, info, **kwargs)

    async def resolve_async(self, next_: Callable[..., Any], source: Any, info: strawberry.Info, **kwargs: Any) -> Any:
        if not _is_staff(info):
            return self.empty() if callable(self.empty) else self.empty
        return await next_(source, info, **kwargs)


def _is_staff(info: strawberry.Info) -> bool:
    viewer = getattr(info.context, "viewer", None)
    return viewer is not None and viewer.scope().is_staff


def staff_only(*, description: str, empty: Any = None, **kwargs: Any) -> Any:
    """``strawberry.field`` of a field hidden from portal viewers (null, or ``empty``: e.g. ``list`` for [])."""
    return strawberry.field(
        description=f"{description} Staff only: {'empty' if empty is not None else 'null'} in the portal.",
        extensions=[StaffOnly(empty)],
        **kwargs,
    )


@strawberry.interface(description="An object with a globally unique, opaque id.")
class Node:
    id: strawberry.ID = strawberry.field(description="Opaque global id; pass it back to `node(id:)`.")


@strawberry.interface(description="An expected failure. Each mutation's error type adds a `code` enum to switch on.")
class UserError:
    message: str = strawberry.field(description="Human-readable explanation; do not parse it.")
    field: str | None = strawberry.field(default=None, description="The input field at fault, if one is.")


@strawberry.type(description="Relay page information.")
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    node: T
    cursor: str


@strawberry.type
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo
    count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(description="Number of items matching the filter, across all pages.")
    async def total_count(self) -> int:
        return await self.count()


@strawberry.input(description="An inclusive date range; either end may be left open.")
class DateRange:
    from_: dt.date | None = strawberry.field(default=None, name="from")
    to: dt.date | None = None


@strawberry.type(description="A postal address.")
class Address:
    attention: str | None = None
    street1: str | None = None
    street2: str | None = None
    city: str | None = None
    state: str | None = None
    zip: str | None = None
    country: str | None = None
    phone: str | None = None

    @staticmethod
    def from_json(data: dict[str, str | None] | None) -> Address:
        known = {key: value for key, value in (data or {}).items() if key in Address.__annotations__}
        return Address(**known)


@strawberry.input(description="A postal address; every part is optional.")
class AddressInput:
    attention: str | None = None
    street1: str | None = None
    street2: str | None = None
    city: str | None = None
    state: str | None = None
    zip: str | None = None
    country: str | None = None
    phone: str | None = None

    def to_json(self) -> dict[str, str]:
        return {key: value.strip() for key, value in vars(self).items() if isinstance(value, str) and value.strip()}


def gravatar_url(email: str | None) -> str:
    digest = hashlib.md5((email or "").strip().lower().encode(), usedforsecurity=False).hexdigest()
    return f"https://www.gravatar.com/avatar/{digest}?d=identicon"
