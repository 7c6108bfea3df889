"""The ``statement`` query (the figures come from services.statements.compute, shared with the statement PDF)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import strawberry
from graphql import GraphQLError

from core.auth import PortalViewer, Viewer
from core.context import Context
from core.errors import DomainError, TopLevelCode, top_level_error
from core.ids import decode_id
from schema.statements.types import Statement
from services.statements.compute import compute_statement


async def statement(
    info: strawberry.Info,
    from_: Annotated[dt.date, strawberry.argument(name="from", description="First day of the period.")],
    to: Annotated[dt.date, strawberry.argument(description="Last day of the period (inclusive).")],
    contact_id: Annotated[
        strawberry.ID | None,
        strawberry.argument(description="Staff: whose statement (required). Portal: leave out (your contact)."),
    ] = None,
) -> Statement:
    """A contact's statement of account for a period. Portal users get their own contact's."""
    ctx: Context = info.context
    contact_pk = _whose(ctx.require_viewer(), contact_id)
    try:
        async with ctx.db.session() as session:
            data = await compute_statement(session, ctx.scope, contact_pk, from_, to)
    except DomainError as error:
        raise top_level_error(TopLevelCode.BAD_USER_INPUT, error.message, field=error.field) from None
    if data is None:
        raise _no_contact()
    return Statement.from_data(data)


def _whose(viewer: Viewer, contact_id: strawberry.ID | None) -> int:
    """The contact whose statement is asked for: staff name it; a portal user gets their own (naming another
    contact is NOT_FOUND)."""
    if isinstance(viewer, PortalViewer):
        if contact_id is not None and decode_id(contact_id, "Contact") != viewer.contact_id:
            raise _no_contact()
        return viewer.contact_id
    if contact_id is None:
        raise top_level_error(TopLevelCode.BAD_USER_INPUT, "Staff must name the contact.", field="contactId")
    contact_pk = decode_id(contact_id, "Contact")
    if contact_pk is None:
        raise _no_contact()
    return contact_pk


def _no_contact() -> GraphQLError:
    return top_level_error(TopLevelCode.NOT_FOUND, "No contact with this id.", field="contactId")


@strawberry.type
class Query:
    statement: Statement = strawberry.field(resolver=statement)
