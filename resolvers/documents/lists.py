"""What the estimate and invoice lists share: the filters every document takes, newest-first pages, one by id."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, Table

from core.context import Context
from core.ids import decode_id
from resolvers import filtering, pagination
from schema.base import Connection

N = TypeVar("N")


def document_filters(filter: Any, table: Table, status_in: Callable[[Any], ColumnElement[bool]]) -> list[Any]:
    """Status (as it reads: OVERDUE and EXPIRED included), issue date range, number or reference, contact."""
    return [
        *([status_in(filter.status)] if filter.status is not None else []),
        *filtering.date_range(filter.date_range, table.c.issue_date),
        *filtering.search(filter.search, table.c.number, table.c.reference),
        *filtering.contact(filter.contact_id, table.c.contact_id),
    ]


async def newest_first(
    ctx: Context, stmt: Select[Any], table: Table, paging: pagination.Paging, to_node: Callable[[Any], N]
) -> Connection[N]:
    """A page of documents by issue date, newest first (the id breaks ties)."""
    return await pagination.newest_first(ctx.db, stmt, [table.c.issue_date, table.c.id], paging, to_node)


async def one_document(ctx: Context, id: str, type_name: str) -> Any:
    """The estimate or invoice ``id`` names, or None when it is not in the viewer's scope."""
    pk = decode_id(id, type_name)
    loader = ctx.loaders.estimate if type_name == "Estimate" else ctx.loaders.invoice
    return await loader.load(pk) if pk else None
