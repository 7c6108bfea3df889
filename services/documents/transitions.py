"""The one path of a document's status change: lock the row → check the from-state → update → history entry (and
the staff notification it brings) → DocumentStatusChanged after commit.

The moves themselves (where each starts, where it leads, what it records) are declared next to the statuses, in
``models.estimates.EstimateMoves`` and ``models.invoices.InvoiceMoves``; this module carries out any of them the
same way, so a new status is a new ``Move`` and the mutation that makes it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import Table, func, null, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.auth import PortalViewer, StaffViewer, Viewer
from core.errors import DomainError, not_found
from core.scope import T_ESTIMATE, T_INVOICE, Scope
from models.documents import Move
from services.documents.history import name_of, record_activity
from services.documents.statuses import ESTIMATE_STATUS, INVOICE_STATUS
from services.mail import notifications
from subscriptions.events import DocumentStatusChanged, emit

if TYPE_CHECKING:
    from core.context import Context
    from subscriptions.broker import Broker

DocumentKind = Literal["estimate", "invoice"]


TABLES: dict[str, Table] = {"estimate": T_ESTIMATE, "invoice": T_INVOICE}


EFFECTIVE_STATUS = {"estimate": ESTIMATE_STATUS, "invoice": INVOICE_STATUS}


@dataclass(frozen=True, slots=True)
class Actor:
    """Who moves a document (viewer None: the system, e.g. a payment webhook), from which address, and the broker
    that announces the change (None: nobody is told)."""

    viewer: Viewer | None
    organization_id: int
    ip_address: str | None = None
    broker: Broker | None = None

    @staticmethod
    def of(ctx: Context) -> Actor:
        """The signed-in viewer of a request."""
        viewer = ctx.require_viewer()
        return Actor(viewer, viewer.organization_id, ctx.client_ip, ctx.broker)


async def lock(
    session: AsyncSession,
    scope: Scope,
    kind: DocumentKind,
    pk: int,
    *,
    named: Actor | None = None,
    notifying: Actor | None = None,
) -> Any:
    """The document's row with its ``effective_status``, locked until commit; NOT_FOUND outside ``scope``. With
    ``named``, the row also carries the actor's name as it is now (``actor_name``; None for the system); with
    ``notifying``, what the staff mail of the actor's move needs (``notification_head``).

    Concurrent changes of one document queue on this lock, and each then sees the status the previous one left:
    of a concurrent accept and decline exactly one wins, the other gets INVALID_STATE.
    """
    table = TABLES[kind]
    columns: list[Any] = [table, EFFECTIVE_STATUS[kind].label("effective_status")]
    if named is not None:
        name = name_of(named.viewer)
        columns.append((null() if name is None else name).label("actor_name"))
    if notifying is not None:
        person_id = notifying.viewer.contact_person_id if isinstance(notifying.viewer, PortalViewer) else None
        head = notifications.head_column(notifying.organization_id, table.c.contact_id, person_id)
        columns.append(head.label("notification_head"))
    stmt = scope.select(table, *columns).where(table.c.id == pk).with_for_update(of=table)
    row = (await session.execute(stmt)).one_or_none()
    if row is None:
        raise not_found(f"No {kind} with this id.")
    return row


def check(kind: DocumentKind, document: Any, *moves: Move) -> Move:
    """The first of ``moves`` that starts from the document's stored status; INVALID_STATE when none does."""
    for move in moves:
        if document.status in move.start:
            return move
    refused = f"{kind.capitalize()} {document.number} is {document.status}: it cannot be {moves[0].activity}."
    raise DomainError("INVALID_STATE", refused, "id")


async def apply(
    session: AsyncSession,
    actor: Actor,
    kind: DocumentKind,
    document: Any,
    move: Move,
    *,
    description: str,
    values: Mapping[str, Any] | None = None,
    details: dict[str, Any] | None = None,
    name: str | None = None,
    notify: bool = True,
) -> Any:
    """Carry out ``move`` on a document locked and checked by the caller, inside its transaction; returns the row
    as the move left it (with its ``effective_status``).

    Writes the move's columns (status, its time, ``viewed`` starting over) with ``values``, appends the history
    entry (``name``: the actor's name when the caller has it; the entry keeps it), which mails staff when the move
    notifies, and publishes DocumentStatusChanged after commit when the status changed.
    """
    table = TABLES[kind]
    changes = dict(values or {})
    if move.to is not None:
        changes["status"] = move.to
    if move.at is not None:
        changes[move.at] = func.now()
    if move.unseen:
        changes |= {"viewed_at": None, "viewed_by_id": None}
    moved = document
    if changes:
        stmt = update(table).where(table.c.id == document.id).values(**changes, updated_at=func.now())
        returning = stmt.returning(table, EFFECTIVE_STATUS[kind].label("effective_status"))
        moved = (await session.execute(returning)).one()
    await record_activity(
        session,
        viewer=actor.viewer,
        organization_id=actor.organization_id,
        contact_id=document.contact_id,
        kind=move.activity,
        description=description,
        client_visible=move.client_visible,
        ip_address=actor.ip_address,
        details=details,
        actor_name=name,
        head=getattr(document, "notification_head", None),
        document=moved,
        notify=notify,
        **{f"{kind}_id": document.id},
    )
    if move.announce and move.to not in (None, document.status) and actor.broker is not None:
        emit(session, actor.broker, actor.organization_id, _status_changed(actor.viewer, kind, document, move))
    return moved


def _status_changed(viewer: Viewer | None, kind: DocumentKind, document: Any, move: Move) -> DocumentStatusChanged:
    return DocumentStatusChanged(
        document_type="ESTIMATE" if kind == "estimate" else "INVOICE",
        document_id=document.id,
        contact_id=document.contact_id,
        previous_status=document.status,
        status=str(move.to),
        actor_staff_id=viewer.staff_user_id if isinstance(viewer, StaffViewer) else None,
        actor_contact_person_id=viewer.contact_person_id if isinstance(viewer, PortalViewer) else None,
    )


Describe = str | Callable[[Any, Move], str]


async def transition(
    session: AsyncSession,
    actor: Actor,
    scope: Scope,
    kind: DocumentKind,
    pk: int,
    moves: tuple[Move, ...],
    *,
    describe: Describe,
    guard: Callable[[Any], Awaitable[None]] | None = None,
    values: Mapping[str, Any] | None = None,
    details: dict[str, Any] | Callable[[Any], dict[str, Any]] | None = None,
) -> Any:
    """Lock document ``pk``, pick the one of ``moves`` its status allows, run ``guard`` (the move's own conditions,
    raising ``DomainError``), then ``apply`` it. Returns the row as the move left it.

    ``describe`` is the history entry's description: a template (``{number}``, ``{actor}``) or a function of the
    row and the move; ``details`` the entry's details, or a function of the row.
    """
    named = isinstance(describe, str) and "{actor}" in describe
    notifies = any(notifications.wants_notification(move.activity, actor.viewer) for move in moves)
    document = await lock(
        session, scope, kind, pk, named=actor if named else None, notifying=actor if notifies else None
    )
    move = check(kind, document, *moves)
    if guard is not None:
        await guard(document)
    name = document.actor_name if named else None
    if isinstance(describe, str):
        description = describe.format(number=document.number, actor=name)
    else:
        description = describe(document, move)
    if callable(details):
        details = details(document)
    return await apply(
        session, actor, kind, document, move, description=description, values=values, details=details, name=name
    )
