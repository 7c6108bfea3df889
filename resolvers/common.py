"""Helpers every resolver module uses: expected-error conversion and scoped lookups by global id."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any, ParamSpec, TypeVar

import strawberry

from core.context import Context
from core.errors import DomainError
from core.ids import decode_id

P = ParamSpec("P")
R = TypeVar("R")


def user_error(error_type: type[Any], error: DomainError) -> Any:
    """Build a mutation's error object (``code``, ``message``, ``field``) from a ``DomainError``."""
    code_enum = error_type.__strawberry_definition__.get_field("code").type.wrapped_cls
    return error_type(code=code_enum[error.code], message=error.message, field=error.field, **error.extra)


def returns_errors(error_type: type[Any]) -> Callable[[Callable[P, Awaitable[R]]], Callable[P, Awaitable[R]]]:
    """Decorate a mutation resolver: a ``DomainError`` it raises becomes ``error_type`` in the result union."""

    def decorate(resolver: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
        @functools.wraps(resolver)
        async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return await resolver(*args, **kwargs)
            except DomainError as error:
                return user_error(error_type, error)  # type: ignore[no-any-return]

        return wrapper

    return decorate


def context(info: strawberry.Info) -> Context:
    return info.context  # type: ignore[no-any-return]


def pk_of(global_id: str, *type_names: str, field: str = "id") -> int:
    """The primary key named by ``global_id``; raises NOT_FOUND for a malformed id or another type."""
    pk = decode_id(global_id, *type_names)
    if pk is None:
        raise DomainError("NOT_FOUND", f"No {' or '.join(type_names).lower()} with this id.", field)
    return pk
