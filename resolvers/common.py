"""Helpers every resolver module uses: expected-error conversion, lookups by global id, the scoped row a mutation
works on, the viewer's history entry and create mutations run once per idempotency key."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, ParamSpec, TypeVar

from sqlalchemy import Executable
from sqlalchemy.ext.asyncio import AsyncSession

from core.context import Context
from core.errors import DomainError, not_found
from core.ids import decode_id
from services import receipts
from services.documents.history import record_activity

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


def pk_of(global_id: str, *type_names: str, field: str = "id") -> int:
    """The primary key named by ``global_id``; raises NOT_FOUND for a malformed id or another type."""
    pk = decode_id(global_id, *type_names)
    if pk is None:
        raise not_found(f"No {' or '.join(type_names).lower()} with this id.", field)
    return pk


async def one_or_raise(session: AsyncSession, stmt: Executable, error: DomainError) -> Any:
    """The row ``stmt`` selects (through the viewer's scope, usually locked), or ``error`` when there is none."""
    row = (await session.execute(stmt)).first()
    if row is None:
        raise error
    return row


def changed_values(current: Any, values: Mapping[str, Any]) -> dict[str, Any]:
    """The part of ``values`` that differs from the row ``current``."""
    return {key: value for key, value in values.items() if getattr(current, key) != value}


async def record_action(ctx: Context, session: AsyncSession, *, kind: str, description: str, **entry: Any) -> None:
    """Append what the signed-in viewer did to the history, in ``session``'s transaction: the actor, its
    organization and the client address come from the request; ``entry`` names the rows concerned and details."""
    viewer = ctx.require_viewer()
    await record_activity(
        session,
        viewer=viewer,
        organization_id=viewer.organization_id,
        kind=kind,
        description=description,
        ip_address=ctx.client_ip,
        **entry,
    )


async def create_once(
    ctx: Context,
    *,
    operation: str,
    input: object,
    result_type: str,
    create: Callable[[AsyncSession], Awaitable[int]],
) -> int:
    """Run a create mutation's writes in their own transaction, once per idempotency key (``receipts.once``);
    the id of what they made (on a replay, of what the first request made)."""
    async with ctx.db.transaction() as session:
        return await receipts.once(
            session, ctx.require_viewer(), operation=operation, input=input, result_type=result_type, create=create
        )
