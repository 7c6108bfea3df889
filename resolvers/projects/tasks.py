"""createTask and updateTask (staff)."""

from __future__ import annotations

import strawberry
from sqlalchemy import exists, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import DomainError, not_found
from core.scope import T_CONTACT, T_PROJECT, T_TASK, T_TIME_ENTRY
from models.projects import TimeEntryStatus
from resolvers.common import changed_values, create_once, one_or_raise, record_action, returns_errors
from resolvers.edits import editing, staff_target, write_changes
from resolvers.loaders import reload
from resolvers.projects.common import rate, require_active, text_values
from schema.projects.mutations import (
    CreateTaskError,
    CreateTaskInput,
    CreateTaskResult,
    UpdateTaskError,
    UpdateTaskInput,
    UpdateTaskResult,
)


@returns_errors(CreateTaskError)
async def create_task(info: strawberry.Info, input: CreateTaskInput) -> CreateTaskResult:
    """Staff: add a task to an ACTIVE project."""
    ctx, project_pk = staff_target(info, input.project_id, "Project", field="projectId")
    values = text_values(input)

    async def create(session: AsyncSession) -> int:
        # FOR SHARE on the project: a concurrent completion waits for this task, or this task sees it
        project = await one_or_raise(
            session,
            ctx.scope.select(T_PROJECT, T_PROJECT, T_CONTACT.c.currency)
            .join(T_CONTACT, T_CONTACT.c.id == T_PROJECT.c.contact_id)
            .where(T_PROJECT.c.id == project_pk)
            .with_for_update(read=True, of=T_PROJECT),
            not_found("No project with this id.", "projectId"),
        )
        require_active(project.status, "Tasks can only be added to an active project.", "projectId")
        task_pk = await session.scalar(
            insert(T_TASK)
            .values(
                organization_id=ctx.scope.organization_id,
                contact_id=project.contact_id,
                project_id=project_pk,
                billable=input.billable,
                rate=rate(input.rate, project.currency) if input.rate is not None else None,
                **values,
            )
            .returning(T_TASK.c.id)
        )
        await record_action(
            ctx,
            session,
            kind="task_created",
            description=f"Task {values['name']} added",
            contact_id=project.contact_id,
            project_id=project_pk,
            details={"task_id": task_pk},
        )
        return int(task_pk)

    task_pk = await create_once(ctx, operation="createTask", input=input, result_type="Task", create=create)
    return await reload(ctx.loaders.task, task_pk)  # type: ignore[return-value]


@returns_errors(UpdateTaskError)
async def update_task(info: strawberry.Info, input: UpdateTaskInput) -> UpdateTaskResult:
    """Staff: change a task; a task with BILLED time stays billable."""
    ctx, task_pk = staff_target(info, input.id, "Task")
    values = text_values(input)
    locked = (  # the task and its contact's currency; the contact is not locked
        ctx.scope.select(T_TASK, T_TASK, T_CONTACT.c.currency)
        .join(T_CONTACT, T_CONTACT.c.id == T_TASK.c.contact_id)
        .where(T_TASK.c.id == task_pk)
        .with_for_update(of=T_TASK)
    )
    async with editing(ctx, locked, "No task with this id.") as (session, current):
        if input.rate is not None:
            values["rate"] = rate(input.rate, current.currency)
        if input.billable is not None:
            values["billable"] = input.billable
        changed = changed_values(current, values)
        if changed.get("billable") is False:
            await _make_time_non_billable(session, task_pk)
        await write_changes(
            ctx,
            session,
            T_TASK,
            task_pk,
            changed,
            kind="task_updated",
            description=f"Task {changed.get('name', current.name)} updated",
            contact_id=current.contact_id,
            project_id=current.project_id,
            details={"task_id": task_pk},
        )
    return await reload(ctx.loaders.task, task_pk)  # type: ignore[return-value]


async def _make_time_non_billable(session: AsyncSession, task_pk: int) -> None:
    """The task's time follows it out of billing; refused (HAS_BILLED_TIME) once some of it is billed."""
    billed = await session.scalar(
        select(exists().where(T_TIME_ENTRY.c.task_id == task_pk, T_TIME_ENTRY.c.status == TimeEntryStatus.BILLED))
    )
    if billed:
        raise DomainError("HAS_BILLED_TIME", "This task has billed time; it stays billable.", "billable")
    # the portal lists billable time only: unbilled time of a task that is no longer billable goes with it
    await session.execute(update(T_TIME_ENTRY).where(T_TIME_ENTRY.c.task_id == task_pk).values(billable=False))


@strawberry.type
class Mutation:
    create_task: CreateTaskResult = strawberry.field(resolver=create_task)
    update_task: UpdateTaskResult = strawberry.field(resolver=update_task)
