"""Shared GraphQL building blocks: Node, UserError, connections, date ranges."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
from collections.abc import Awaitable, Callable
from enum import Enum
from operator import attrgetter
from typing import Annotated, Any, Generic, TypeVar

import strawberry
from strawberry.extensions import FieldExtension
from strawberry.types.base import StrawberryOptional
from strawberry.types.enum import StrawberryEnumDefinition

from core.ids import to_global_id

T = TypeVar("T")


def from_columns(cls: type[T], row: Any, **values: Any) -> T:
    """An object of the Strawberry type ``cls`` read from ``row`` (a database row, or any object with attributes):
    ``values`` as given, and every other field from the row's attribute of the same name. Three conventions: ``id``
    is the type's global id of ``row.id``, ``pk`` is ``row.id``, and an enum field's value becomes its member."""
    for name, read in _readers(cls):
        if name not in values:
            values[name] = read(row)
    return cls(**values)


@functools.cache
def _readers(cls: type) -> tuple[tuple[str, Callable[[Any], Any]], ...]:
    """How ``from_columns`` reads each field ``cls`` is constructed with (worked out once per type)."""
    definition = cls.__strawberry_definition__  # type: ignore[attr-defined]
    types = {field.python_name: field.type for field in definition.fields}
    return tuple(
        (field.name, _reader(field.name, types.get(field.name), definition.name))
        for field in dataclasses.fields(cls)
        if field.init
    )


def _reader(name: str, field_type: Any, type_name: str) -> Callable[[Any], Any]:
    if name == "id":
        return lambda row: strawberry.ID(to_global_id(type_name, row.id))
    if name == "pk":
        return attrgetter("id")
    column = attrgetter(name)
    if isinstance(field_type, StrawberryEnumDefinition):
        member = field_type.wrapped_cls
        return lambda row: member(column(row))
    if isinstance(field_type, StrawberryOptional) and isinstance(field_type.of_type, StrawberryEnumDefinition):
        optional_member = field_type.of_type.wrapped_cls
        return lambda row: None if (value := column(row)) is None else optional_member(value)
    return column


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


DEFAULT_PAGE = 20
MAX_PAGE = 100
# every connection's paging arguments, described once (the limit is stated in the schema, not found by trying)
First = Annotated[
    int | None,
    strawberry.argument(description=f"Page size: 0 to {MAX_PAGE}, default {DEFAULT_PAGE}; more is BAD_USER_INPUT."),
]
After = Annotated[
    str | None,
    strawberry.argument(description="The `endCursor` of the previous page (opaque): the page after it."),
]
Last = Annotated[
    int | None,
    strawberry.argument(
        description=f"Paging backwards (with `before`, never with `first`/`after`): the last 0 to {MAX_PAGE} items."
    ),
]
Before = Annotated[
    str | None,
    strawberry.argument(description="The `startCursor` of the next page (opaque): the page before it."),
]


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


@dataclasses.dataclass
class AddressParts:
    """The parts of a postal address, each optional: the fields of ``Address`` and of ``AddressInput`` alike (a
    contact's and an organization's address are stored as JSON objects of these keys)."""

    attention: str | None = None
    street1: str | None = None
    street2: str | None = None
    city: str | None = None
    state: str | None = None
    zip: str | None = None
    country: str | None = None
    phone: str | None = None


ADDRESS_PARTS = frozenset(field.name for field in dataclasses.fields(AddressParts))


@strawberry.type(description="A postal address.")
class Address(AddressParts):
    @staticmethod
    def from_json(data: dict[str, str | None] | None) -> Address:
        known = {key: value for key, value in (data or {}).items() if key in ADDRESS_PARTS}
        return Address(**known)


@strawberry.input(description="A postal address; every part is optional.")
class AddressInput(AddressParts):
    def to_json(self) -> dict[str, str]:
        return {key: value.strip() for key, value in vars(self).items() if isinstance(value, str) and value.strip()}


def gravatar_url(email: str | None) -> str:
    digest = hashlib.md5((email or "").strip().lower().encode(), usedforsecurity=False).hexdigest()
    return f"https://www.gravatar.com/avatar/{digest}?d=identicon"


RETRY_AFTER_DESCRIPTION = "With TOO_MANY_ATTEMPTS: wait this long before trying again."


def error_codes(name: str, *codes: str, description: str | None = None, **described: str) -> type[Enum]:
    """A mutation's error-code enum: ``codes`` in order (a string may hold several, separated by spaces), then
    ``described`` (code → its description)."""
    plain = [code for group in codes for code in group.split()]
    members: dict[str, Any] = {code: code for code in plain}
    members |= {code: strawberry.enum_value(code, description=text) for code, text in described.items()}
    return strawberry.enum(Enum(name, members), description=description)  # type: ignore[misc, no-any-return]


def error_type(
    name: str, codes: type[Enum], *, description: str | None = None, retry_after: bool = False, **fields: Any
) -> type:
    """A mutation's error type: a ``UserError`` with ``code: codes`` (and ``retryAfterSeconds`` with
    ``retry_after``; ``fields`` as ``name=(annotation, strawberry.field(...))`` for others)."""
    if retry_after:
        fields = {
            "retry_after_seconds": (int | None, strawberry.field(default=None, description=RETRY_AFTER_DESCRIPTION)),
            **fields,
        }
    annotations: dict[str, Any] = {"code": codes, **{key: annotation for key, (annotation, _) in fields.items()}}
    namespace = {key: default for key, (_, default) in fields.items()}
    cls = type(name, (UserError,), {"__annotations__": annotations, "__module__": __name__, **namespace})
    return strawberry.type(cls, description=description)  # type: ignore[no-any-return]


def mutation_error(
    name: str, *codes: str, description: str | None = None, retry_after: bool = False, **described: str
) -> type:
    """``error_type`` of a mutation named ``name`` with its own ``<name>ErrorCode`` enum (``error_codes``): the
    three declarations every mutation's expected failures take, in one."""
    enum = error_codes(f"{name}ErrorCode", *codes, **described)
    return error_type(f"{name}Error", enum, description=description, retry_after=retry_after)


def result_union(name: str, success: Any, error: type) -> Any:
    """``<name>Result``, what mutation ``name`` answers: ``success`` (a type, or a union of types) or ``error``."""
    return Annotated[success | error, strawberry.union(f"{name}Result")]


def mutation_types(
    name: str,
    success: Any,
    *codes: str,
    shared: type[Enum] | None = None,
    description: str | None = None,
    retry_after: bool = False,
    **described: str,
) -> tuple[type, Any]:
    """Mutation ``name``'s error type and result union: ``<name>Error``, with its own ``<name>ErrorCode`` enum of
    ``codes`` and ``described`` (as ``mutation_error``) or the ``shared`` code enum of several mutations, and
    ``<name>Result`` (``success`` or the error)."""
    if shared is not None:
        error = error_type(f"{name}Error", shared, description=description, retry_after=retry_after)
    else:
        error = mutation_error(name, *codes, description=description, retry_after=retry_after, **described)
    return error, result_union(name, success, error)
