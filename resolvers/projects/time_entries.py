"""createTimeEntry and updateTimeEntry (staff): time logged on tasks, UNBILLED until staff mark it BILLED."""

from __future__ import annotations

from typing import Any

import strawberry
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import DomainError, invalid, not_found
from core.scope import T_PROJECT, T_TASK, T_TIME_ENTRY
from models.projects import TimeEntryStatus
from resolvers.common import changed_values, create_once, one_or_raise, record_action, returns_errors
from resolvers.edits import editing, staff_target, write_changes
from resolvers.loaders import reload
from resolvers.projects.common import check_billable, duration, notes, require_active
from schema.projects.mutations import (
    CreateTimeEntryError,
    CreateTimeEntryInput,
    CreateTimeEntryResult,
    UpdateTimeEntryError,
    UpdateTimeEntryInput,
    UpdateTimeEntryResult,
)
from schema.projects.types import hours

BILLED_FIXED = {"duration_minutes", "entry_date", "billable"}  # what an invoice was based on


@returns_errors(CreateTimeEntryError)
async def create_time_entry(info: strawberry.Info, input: CreateTimeEntryInput) -> CreateTimeEntryResult:
    """Staff: log time on a task of an ACTIVE project (UNBILLED)."""
    ctx, task_pk = staff_target(info, input.task_id, "Task", field="taskId")
    viewer = ctx.require_staff()
    minutes = duration(input.duration_minutes)
    entry_notes = notes(input.notes)

    async def create(session: AsyncSession) -> int:
        task = await one_or_raise(
            session,
            ctx.scope.select(T_TASK, T_TASK, T_PROJECT.c.status.label("project_status"))
            .join(T_PROJECT, T_PROJECT.c.id == T_TASK.c.project_id)
            .where(T_TASK.c.id == task_pk)
            .with_for_update(read=True),
            not_found("No task with this id.", "taskId"),
        )
        require_active(task.project_status, "Time can only be logged on an active project.", "taskId")
        billable = task.billable if input.billable is None else input.billable
        check_billable(billable, task.billable)
        entry_pk = await session.scalar(
            insert(T_TIME_ENTRY)
            .values(
                organization_id=viewer.organization_id,
                contact_id=task.contact_id,
                project_id=task.project_id,
                task_id=task_pk,
                staff_user_id=viewer.staff_user_id,
                entry_date=input.date,
                duration_minutes=minutes,
                notes=entry_notes,
                billable=billable,
                status=TimeEntryStatus.UNBILLED,
            )
            .returning(T_TIME_ENTRY.c.id)
        )
        await record_action(
            ctx,
            session,
            kind="time_logged",
            description=f"{hours(minutes)} h logged on {task.name}",
            contact_id=task.contact_id,
            project_id=task.project_id,
            details={"task_id": task_pk, "time_entry_id": entry_pk, "minutes": minutes},
        )
        return int(entry_pk)

    entry_pk = await create_once(ctx, operation="createTimeEntry", input=input, result_type="TimeEntry", create=create)
    return await reload(ctx.loaders.time_entry, entry_pk)  # type: ignore[return-value]


def _entry_values(input: UpdateTimeEntryInput) -> dict[str, Any]:
    """The columns an update sets, cleaned; absent fields are left out."""
    values: dict[str, Any] = {}
    if input.duration_minutes is not None:
        values["duration_minutes"] = duration(input.duration_minutes)
    if input.date is not None:
        values["entry_date"] = input.date
    if input.billable is not None:
        values["billable"] = input.billable
    if input.notes is not None:
        values["notes"] = notes(input.notes)
    if input.status is not None:
        values["status"] = input.status.value
    return values


def _check_billing(current: Any, changed: dict[str, Any]) -> None:
    """Billed time keeps what its invoice was based on, follows its task's billable flag, and only billable time
    is BILLED."""
    status = changed.get("status", current.status)
    billable = changed.get("billable", current.billable)
    if current.status == TimeEntryStatus.BILLED and status == TimeEntryStatus.BILLED and changed.keys() & BILLED_FIXED:
        raise DomainError("ALREADY_BILLED", "Billed time cannot change; mark it UNBILLED first.", "status")
    check_billable(billable, current.task_billable)
    if status == TimeEntryStatus.BILLED and not billable:
        raise invalid("Only billable time can be BILLED.", "billable" if "billable" in changed else "status")


@returns_errors(UpdateTimeEntryError)
async def update_time_entry(info: strawberry.Info, input: UpdateTimeEntryInput) -> UpdateTimeEntryResult:
    """Staff: correct a time entry or mark it BILLED / UNBILLED."""
    ctx, entry_pk = staff_target(info, input.id, "TimeEntry")
    values = _entry_values(input)
    # the task row is locked too, so the entry's billable flag and the task's cannot drift apart
    locked = (
        ctx.scope.select(T_TIME_ENTRY, T_TIME_ENTRY, T_TASK.c.billable.label("task_billable"), T_TASK.c.name)
        .join(T_TASK, T_TASK.c.id == T_TIME_ENTRY.c.task_id)
        .where(T_TIME_ENTRY.c.id == entry_pk)
        .with_for_update()
    )
    async with editing(ctx, locked, "No time entry with this id.") as (session, current):
        changed = changed_values(current, values)
        _check_billing(current, changed)
        if changed.get("status") == TimeEntryStatus.UNBILLED:
            changed["invoice_id"] = None
        await write_changes(
            ctx,
            session,
            T_TIME_ENTRY,
            entry_pk,
            changed,
            kind="time_entry_updated",
            description=f"Time entry on {current.name} updated",
            contact_id=current.contact_id,
            project_id=current.project_id,
            details={"task_id": current.task_id, "time_entry_id": entry_pk},
        )
    return await reload(ctx.loaders.time_entry, entry_pk)  # type: ignore[return-value]


@strawberry.type
class Mutation:
    create_time_entry: CreateTimeEntryResult = strawberry.field(resolver=create_time_entry)
    update_time_entry: UpdateTimeEntryResult = strawberry.field(resolver=update_time_entry)
