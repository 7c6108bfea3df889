"""Scoped SELECTs for the read paths: rows in, plain GraphQL objects out (no ORM instances)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, Table, and_, case, func, select

from core.scope import (
    T_ACTIVITY,
    T_COMMENT,
    T_CONTACT,
    T_CONTACT_PERSON,
    T_ESTIMATE,
    T_INVOICE,
    T_PROJECT,
    T_STAFF_USER,
    T_TASK,
    T_TIME_ENTRY,
    Scope,
)
from services.documents.statuses import (  # noqa: F401  (the read paths' status filters, re-exported)
    ESTIMATE_STATUS,
    INVOICE_STATUS,
    awaiting_approval,
    estimate_status_in,
    invoice_status_in,
    outstanding,
)

OWNERS: dict[str, Table] = {"estimate": T_ESTIMATE, "invoice": T_INVOICE, "project": T_PROJECT}


def owner_kind(owner: object) -> str:
    """``estimate``, ``invoice`` or ``project`` for a document or project object."""
    return type(owner).__name__.lower()


PERSON_NAME = func.concat_ws(" ", T_CONTACT_PERSON.c.first_name, T_CONTACT_PERSON.c.last_name)


def estimates(scope: Scope) -> Select[Any]:
    return scope.select(T_ESTIMATE, T_ESTIMATE, ESTIMATE_STATUS.label("effective_status"))


def invoices(scope: Scope) -> Select[Any]:
    return scope.select(T_INVOICE, T_INVOICE, INVOICE_STATUS.label("effective_status"))


def comments(scope: Scope, on: Table | None = None) -> Select[Any]:
    """Comments with their author's name; ``on`` = the estimate, invoice or project table they are read through."""
    author = func.coalesce(T_STAFF_USER.c.name, PERSON_NAME).label("author_name")
    if on is None:
        stmt = scope.select(T_COMMENT, T_COMMENT, author)
    else:
        via = T_COMMENT.c[f"{on.name}_id"]
        stmt = select(T_COMMENT, author).select_from(T_COMMENT).where(*scope.child_conditions(T_COMMENT, via, on))
    return stmt.outerjoin(T_STAFF_USER, T_STAFF_USER.c.id == T_COMMENT.c.author_staff_id).outerjoin(
        T_CONTACT_PERSON, T_CONTACT_PERSON.c.id == T_COMMENT.c.author_contact_person_id
    )


def activities(scope: Scope) -> Select[Any]:
    """History entries with the actor's name as the entry keeps it (the system's entries: "", as always)."""
    columns = [column for column in T_ACTIVITY.c if column.key != "actor_name"]
    return scope.select(T_ACTIVITY, *columns, func.coalesce(T_ACTIVITY.c.actor_name, "").label("actor_name"))


def tasks(scope: Scope) -> Select[Any]:
    """Tasks with logged and billed minutes derived from their time entries (billable only in the portal)."""
    entries = T_TIME_ENTRY
    logged = func.coalesce(func.sum(entries.c.duration_minutes), 0).label("logged_minutes")
    billed = func.coalesce(
        func.sum(case((entries.c.status == "BILLED", entries.c.duration_minutes), else_=0)), 0
    ).label("billed_minutes")
    stmt = (
        scope.select(T_TASK, T_TASK, logged, billed, T_CONTACT.c.currency)
        .join(T_CONTACT, T_CONTACT.c.id == T_TASK.c.contact_id)
        .outerjoin(entries, and_(entries.c.task_id == T_TASK.c.id, *_billable_only(scope, entries)))
        .group_by(T_TASK.c.id, T_CONTACT.c.currency)
    )
    return stmt.where(*_billable_only(scope, T_TASK))


def time_entries(scope: Scope) -> Select[Any]:
    stmt = scope.select(T_TIME_ENTRY, T_TIME_ENTRY, T_TASK.c.name.label("task_name")).join(
        T_TASK, T_TASK.c.id == T_TIME_ENTRY.c.task_id
    )
    return stmt.where(*_billable_only(scope, T_TIME_ENTRY))


def _billable_only(scope: Scope, table: Any) -> list[Any]:
    return [] if scope.is_staff else [table.c.billable.is_(True)]
