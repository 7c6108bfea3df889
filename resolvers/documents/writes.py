"""What staff's estimate and invoice mutations share: create, the common part of an update, send, re-reading.

Each kind says how it differs in a ``DocumentForm`` (its kind and its end date); every status change goes through
``services.documents.transitions``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

import strawberry
from sqlalchemy import insert, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.context import Context
from core.errors import DomainError, invalid
from core.scope import Scope
from models.documents import Move
from models.estimates import EstimateStatus
from resolvers.common import create_once, pk_of, record_action
from resolvers.loaders import reload
from services.documents import transitions
from services.documents.lines import (
    HEADER_TEXT_LIMITS,
    check_dates,
    clean_header,
    clean_lines,
    count_lines,
    lock_contact,
    replace_line_items,
    today,
)
from services.documents.numbering import next_number
from services.documents.transitions import TABLES, Actor, DocumentKind

DRAFT = EstimateStatus.DRAFT  # what every document starts as (InvoiceStatus.DRAFT is the same word)


@dataclass(frozen=True, slots=True)
class DocumentForm:
    """How a kind of document's staff mutations differ: the kind, and the date after its issue date."""

    kind: DocumentKind
    end_date: Literal["expiry_date", "due_date"]  # the column
    end_field: str  # its input field: "expiryDate"

    @property
    def type_name(self) -> str:
        return self.kind.capitalize()  # "Estimate"

    @property
    def header_fields(self) -> tuple[str, ...]:
        """The header columns an update may set, issue date first: the dates, then the texts."""
        return ("issue_date", self.end_date, *HEADER_TEXT_LIMITS)


def given_fields(input: object, names: tuple[str, ...]) -> dict[str, Any]:
    """The fields of ``input`` the client set (null included), leaving out those it did not send."""
    return {name: getattr(input, name) for name in names if getattr(input, name) is not strawberry.UNSET}


async def store_lines(
    session: AsyncSession, scope: Scope, form: DocumentForm, document_pk: int, lines: list[Any], currency: str
) -> dict[str, Any]:
    """Replace the document's lines; returns the totals columns to store on it."""
    totals = await replace_line_items(
        session,
        organization_id=scope.organization_id,
        owner=form.kind,
        owner_id=document_pk,
        lines=lines,
        currency=currency,
    )
    return {"subtotal": totals.subtotal, "tax_total": totals.tax_total, "total": totals.total}


async def reload_document(ctx: Context, kind: DocumentKind, pk: int) -> Any:
    """The document as the viewer now sees it (a request may change it twice: never from the loader's cache)."""
    return await reload(ctx.loaders.estimate if kind == "estimate" else ctx.loaders.invoice, pk)


async def create_document(
    ctx: Context,
    form: DocumentForm,
    input: Any,
    *,
    operation: str,
    description: str,
    values: Callable[[AsyncSession, Any], Awaitable[dict[str, Any]]] | None = None,
) -> Any:
    """Staff: a new DRAFT document for ``input.contact_id``, in the contact's currency, with the next number.

    ``values`` adds the kind's own columns (given the session and the locked contact); ``description`` is the
    history entry's, with ``{number}``.
    """
    ctx.require_staff()
    contact_pk = pk_of(input.contact_id, "Contact", field="contactId")
    header = clean_header(given_fields(input, form.header_fields[1:]), end_date=form.end_date)
    header["issue_date"] = input.issue_date or today()
    check_dates(header["issue_date"], header.get(form.end_date), form.end_field)
    scope, table = ctx.scope, TABLES[form.kind]

    async def create(session: AsyncSession) -> int:
        contact = await lock_contact(session, scope, contact_pk)
        lines = clean_lines(input.line_items, contact.currency)
        own = await values(session, contact) if values is not None else {}
        # the number is taken last: its counter row stays locked until commit
        number = await next_number(session, organization_id=scope.organization_id, kind=form.kind)
        document_pk = await session.scalar(
            insert(table)
            .values(organization_id=scope.organization_id, contact_id=contact_pk, number=number, status=DRAFT)
            .values(currency=contact.currency, **own, **header)
            .returning(table.c.id)
        )
        assert document_pk is not None
        totals = await store_lines(session, scope, form, document_pk, lines, contact.currency)
        if form.kind == "invoice":
            totals |= {"amount_paid": 0, "balance_due": totals["total"]}
        await session.execute(update(table).where(table.c.id == document_pk).values(**totals))
        entry = {"contact_id": contact_pk, f"{form.kind}_id": document_pk}
        await record_action(ctx, session, kind="created", description=description.format(number=number), **entry)
        return document_pk

    document_pk = await create_once(ctx, operation=operation, input=input, result_type=form.type_name, create=create)
    return await reload_document(ctx, form.kind, document_pk)


def update_values(form: DocumentForm, input: Any, *required: tuple[str, str, str]) -> dict[str, Any]:
    """The header columns an update input sets; ``required`` (name, field, hint) may be left out but not null."""
    values = clean_header(given_fields(input, form.header_fields), end_date=form.end_date)
    for name, field, hint in (*required, ("line_items", "lineItems", "[] to remove every line")):
        if getattr(input, name) is None:
            raise invalid(f"{field} cannot be null; send {hint}.", field)
    return values


async def lock_for_update(
    session: AsyncSession, ctx: Context, form: DocumentForm, pk: int, values: dict[str, Any], *moves: Move
) -> tuple[Any, Move]:
    """The document locked, the move its status allows (INVALID_STATE otherwise), its dates checked as changed."""
    current = await transitions.lock(session, ctx.scope, form.kind, pk)
    move = transitions.check(form.kind, current, *moves)
    end = values.get(form.end_date, getattr(current, form.end_date))
    check_dates(values.get("issue_date", current.issue_date), end, form.end_field)
    return current, move


async def replace_lines(
    session: AsyncSession, ctx: Context, form: DocumentForm, input: Any, current: Any, values: dict[str, Any]
) -> bool:
    """When the input gives lines: replace them and add the new totals to ``values``; whether it did."""
    if input.line_items is strawberry.UNSET:
        return False
    lines = clean_lines(input.line_items, current.currency)
    values |= await store_lines(session, ctx.scope, form, current.id, lines, current.currency)
    return True


async def send_document(
    ctx: Context, form: DocumentForm, id: strawberry.ID, moves: tuple[Move, ...], *, guard: Callable[[Any], None]
) -> Any:
    """Staff: a DRAFT becomes SENT (the portal shows it), or a sent one goes again; either way ``viewed`` starts over
    and the history says so. ``guard`` refuses what the kind may not send; an empty document is never sent."""
    ctx.require_staff()
    pk = pk_of(id, form.type_name)

    async def sendable(document: Any) -> None:
        if await count_lines(session, ctx.scope, owner=form.kind, owner_id=document.id) == 0:
            raise DomainError("EMPTY_DOCUMENT", "Add at least one line with an amount before sending.", "id")
        guard(document)

    def describe(document: Any, move: Move) -> str:
        return f"{form.type_name} {document.number} {'sent' if move.to else 'sent again'}"

    async with ctx.db.transaction() as session:
        await transitions.transition(
            session, Actor.of(ctx), ctx.scope, form.kind, pk, moves, describe=describe, guard=sendable
        )
    return await reload_document(ctx, form.kind, pk)
