"""Idempotency receipts: a create mutation retried with the same ``idempotencyKey`` returns what the first one made.

A client that lost the answer to a write (a timeout, a dropped connection, the database restarting between commit
and response) cannot know whether it happened. With a key it simply sends the request again:

- the receipt is inserted *inside the mutation's own transaction*, first, with ``ON CONFLICT DO NOTHING``: it
  exists exactly when the write committed, and a rolled-back attempt leaves nothing behind;
- a concurrent duplicate waits on the unique index (organization, subject, operation, key) until the first one
  commits, then finds its receipt: however many arrive at once, one row is made;
- a key seen before returns the object it made, re-read through the viewer's scope (NOT_FOUND when it is no longer
  visible), if the request's fingerprint (SHA-256 of the canonical input without the key) is the same;
  another input with the same key is ``IDEMPOTENCY_KEY_REUSED``;
- keys belong to one person (a staff user or a portal person) and one operation: another person's equal key is
  independent.

Receipts are kept for now; a periodic ``DELETE … WHERE created_at < now() - interval '…'`` (indexed) can prune them
once the retry window is agreed on. ``docs/retrying-mutations.md`` lists which mutations are safe to retry.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Awaitable, Callable
from decimal import Decimal
from enum import Enum
from typing import Any

import orjson
import strawberry
from sqlalchemy import Table, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types.base import StrawberryObjectDefinition

from core.auth import PortalViewer, Viewer
from core.errors import DomainError, invalid, not_found
from core.scope import (
    T_COMMENT,
    T_CONTACT,
    T_CONTACT_PERSON,
    T_ESTIMATE,
    T_INVOICE,
    T_PAYMENT,
    T_PROJECT,
    T_REVIEW,
    T_TASK,
    T_TIME_ENTRY,
)
from models import MutationReceipt

T_RECEIPT: Table = MutationReceipt.__table__  # type: ignore[assignment]
MAX_KEY_LENGTH = 100
KEY_FIELD = "idempotency_key"
KEY_DESCRIPTION = (
    f"Optional, chosen by the client: one per intended change (a UUID; 1 to {MAX_KEY_LENGTH} printable characters). "
    "Sending the same input with the same key again returns what the first request made and does nothing more, so "
    "a request whose answer was lost can be retried safely; the same key with a different input is "
    "IDEMPOTENCY_KEY_REUSED. Keys are per person and per mutation."
)

# what a receipt may point at, by GraphQL type name: the table its replay is re-read from through the scope
RESULT_TABLES: dict[str, Table] = {
    "Comment": T_COMMENT,
    "Contact": T_CONTACT,
    "ContactPerson": T_CONTACT_PERSON,
    "Estimate": T_ESTIMATE,
    "Invoice": T_INVOICE,
    "Payment": T_PAYMENT,
    "Project": T_PROJECT,
    "Review": T_REVIEW,
    "Task": T_TASK,
    "TimeEntry": T_TIME_ENTRY,
}


def subject_of(viewer: Viewer) -> str:
    """Whose keys these are: ``staff:<id>`` or ``person:<id>``."""
    if isinstance(viewer, PortalViewer):
        return f"person:{viewer.contact_person_id}"
    return f"staff:{viewer.staff_user_id}"


def client_key(input: object) -> str | None:
    """The input's idempotency key, checked: 1 to ``MAX_KEY_LENGTH`` printable characters (INVALID_INPUT)."""
    key = getattr(input, KEY_FIELD, None)
    if key is None:
        return None
    if not 1 <= len(key) <= MAX_KEY_LENGTH or not key.isprintable():
        raise invalid(f"idempotencyKey takes 1 to {MAX_KEY_LENGTH} printable characters.", "idempotencyKey")
    return str(key)


def _canonical(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    definition = getattr(type(value), "__strawberry_definition__", None)
    if isinstance(definition, StrawberryObjectDefinition):  # an input: its fields, those left out omitted
        return {
            field.python_name: _canonical(getattr(value, field.python_name))
            for field in definition.fields
            if field.python_name != KEY_FIELD and getattr(value, field.python_name) is not strawberry.UNSET
        }
    if isinstance(value, Decimal):
        return str(value.normalize())  # "10" and "10.00" are the same amount
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_canonical(item) for item in value]
    if value is None or isinstance(value, str | int | float):
        return value
    raise TypeError(f"no canonical form for {type(value).__name__}")


def fingerprint(input: object) -> bytes:
    """SHA-256 of the input in canonical JSON (sorted keys), leaving out its idempotency key."""
    return hashlib.sha256(orjson.dumps(_canonical(input), option=orjson.OPT_SORT_KEYS)).digest()


async def _receipt(session: AsyncSession, viewer: Viewer, operation: str, key: str) -> Any:
    stmt = select(T_RECEIPT.c.fingerprint, T_RECEIPT.c.result_type, T_RECEIPT.c.result_id).where(
        T_RECEIPT.c.organization_id == viewer.organization_id,
        T_RECEIPT.c.subject == subject_of(viewer),
        T_RECEIPT.c.operation == operation,
        T_RECEIPT.c.client_key == key,
    )
    return (await session.execute(stmt)).one_or_none()


async def _replay(session: AsyncSession, viewer: Viewer, row: Any, digest: bytes) -> int:
    if row.fingerprint != digest:
        raise DomainError(
            "IDEMPOTENCY_KEY_REUSED", "This idempotency key was used with a different input.", "idempotencyKey"
        )
    table = RESULT_TABLES[row.result_type]
    visible = await session.scalar(viewer.scope().select(table, table.c.id).where(table.c.id == row.result_id))
    if visible is None:
        raise not_found("What this idempotency key made is no longer there.", "idempotencyKey")
    return int(row.result_id)


async def earlier_result(session: AsyncSession, viewer: Viewer, *, operation: str, input: object) -> int | None:
    """The id of what an earlier request with this input's key made, or None; a read, for work before ``once``."""
    key = client_key(input)
    if key is None:
        return None
    row = await _receipt(session, viewer, operation, key)
    return None if row is None else await _replay(session, viewer, row, fingerprint(input))


async def once(
    session: AsyncSession,
    viewer: Viewer,
    *,
    operation: str,
    input: object,
    result_type: str,
    create: Callable[[AsyncSession], Awaitable[int]],
) -> int:
    """Run ``create(session)`` (the mutation's writes, in ``session``'s transaction) once per key; the id it made.

    Without a key, ``create`` just runs. Call it first in the transaction: a duplicate then waits here, holding
    nothing else, and what ``create`` would check (state, throttles) is not checked again on a replay.
    """
    key = client_key(input)
    if key is None:
        return await create(session)
    assert result_type in RESULT_TABLES, result_type
    digest = fingerprint(input)
    for _ in range(2):  # a receipt pruned between the two statements: claim again
        claimed = await session.scalar(
            insert(T_RECEIPT)
            .values(
                organization_id=viewer.organization_id,
                subject=subject_of(viewer),
                operation=operation,
                client_key=key,
                fingerprint=digest,
                result_type=result_type,
            )
            .on_conflict_do_nothing(constraint="uq_mutation_receipt_key")
            .returning(T_RECEIPT.c.id)
        )
        if claimed is not None:
            result_id = await create(session)
            await session.execute(update(T_RECEIPT).where(T_RECEIPT.c.id == claimed).values(result_id=result_id))
            return result_id
        # the key's first request committed (a concurrent one waited for it on the unique index above)
        row = await _receipt(session, viewer, operation, key)
        if row is not None:
            return await _replay(session, viewer, row, digest)
    raise RuntimeError("idempotency receipt neither inserted nor found")
