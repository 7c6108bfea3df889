"""Projects, tasks and time entries: queries and staff mutations."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import strawberry
from graphql import GraphQLError
from sqlalchemy import exists, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core import validation
from core.auth import PortalViewer
from core.context import Context
from core.errors import DomainError
from core.ids import decode_id
from core.money import quantize
from core.scope import T_CONTACT, T_PROJECT, T_TASK, T_TIME_ENTRY
from resolvers import filtering, reads
from resolvers.common import pk_of, returns_errors
from resolvers.pagination import paginate
from schema.base import Connection
from schema.projects.mutations import (
    MAX_ENTRY_MINUTES,
    CreateProjectError,
    CreateProjectInput,
    CreateProjectResult,
    CreateTaskError,
    CreateTaskInput,
    CreateTaskResult,
    CreateTimeEntryError,
    CreateTimeEntryInput,
    CreateTimeEntryResult,
    UpdateProjectError,
    UpdateProjectInput,
    UpdateProjectResult,
    UpdateTaskError,
    UpdateTaskInput,
    UpdateTaskResult,
    UpdateTimeEntryError,
    UpdateTimeEntryInput,
    UpdateTimeEntryResult,
)
from schema.projects.types import Project, ProjectFilter, Task, TimeEntry, hours
from services import receipts
from services.documents.history import record_activity

FEATURE_DISABLED = "FEATURE_DISABLED"


def require_projects_shown(ctx: Context) -> None:
    """Portal users reach projects only while the organization shows them; otherwise a FEATURE_DISABLED error.

    The error is top-level (``extensions.code = FEATURE_DISABLED``, data null for the field) so a frontend can hide
    the Projects module; the scope hides the rows too, so nothing reaches the portal by any other path.
    """
    viewer = ctx.require_viewer()
    if isinstance(viewer, PortalViewer) and not viewer.show_projects:
        raise GraphQLError(
            "This organization does not show projects and timesheets in the portal.",
            extensions={"code": FEATURE_DISABLED},
        )


async def projects(
    info: strawberry.Info, first: int | None = None, after: str | None = None, filter: ProjectFilter | None = None
) -> Connection[Project]:
    """Projects in the viewer's scope, newest first (portal: only while the organization shows projects)."""
    ctx: Context = info.context
    require_projects_shown(ctx)
    stmt = ctx.scope.select(T_PROJECT)
    if filter:
        stmt = stmt.where(
            *filtering.one_of(filter.status, T_PROJECT.c.status),
            *filtering.search(filter.search, T_PROJECT.c.name),
            *filtering.contact(filter.contact_id, T_PROJECT.c.contact_id),
        )
    return await paginate(
        ctx.db,
        stmt,
        order=[T_PROJECT.c.id],
        kinds=[int],
        descending=True,
        first=first,
        after=after,
        to_node=Project.from_row,
    )


async def project(info: strawberry.Info, id: strawberry.ID) -> Project | None:
    require_projects_shown(info.context)
    pk = decode_id(id, "Project")
    return await info.context.loaders.project.load(pk) if pk else None


async def time_entries_of(
    info: strawberry.Info, project_pk: int, *, first: int | None, after: str | None
) -> Connection[TimeEntry]:
    ctx: Context = info.context
    return await paginate(
        ctx.db,
        reads.time_entries(ctx.scope).where(T_TIME_ENTRY.c.project_id == project_pk),
        order=[T_TIME_ENTRY.c.entry_date, T_TIME_ENTRY.c.id],
        kinds=[dt.date, int],
        descending=True,
        first=first,
        after=after,
        to_node=TimeEntry.from_row,
    )


MAX_NAME = 200


MAX_TEXT = 5000


MAX_RATE = Decimal("1000000000")


BILLED_FIXED = {"duration_minutes", "entry_date", "billable"}  # what an invoice was based on


def _text_values(input: Any) -> dict[str, Any]:
    """Cleaned ``name`` and ``description`` of an input; absent fields are left out."""
    values: dict[str, Any] = {}
    if input.name is not None:
        values["name"] = validation.required_text(input.name, "name", max_length=MAX_NAME)
    if input.description is not None:
        values["description"] = validation.text(input.description, "description", max_length=MAX_TEXT)
    return values


def _rate(value: Decimal, currency: str) -> Decimal:
    return quantize(validation.decimal(value, "rate", minimum=Decimal(0), maximum=MAX_RATE), currency)


def _duration(minutes: int) -> int:
    if not 0 < minutes <= MAX_ENTRY_MINUTES:
        raise DomainError(
            "INVALID_DURATION", f"durationMinutes must be between 1 and {MAX_ENTRY_MINUTES}.", "durationMinutes"
        )
    return minutes


async def _read_task(ctx: Context, task_pk: int) -> Task:
    async with ctx.db.session() as session:
        row = (await session.execute(reads.tasks(ctx.scope).where(T_TASK.c.id == task_pk))).one()
    return Task.from_row(row)


async def _read_time_entry(ctx: Context, entry_pk: int) -> TimeEntry:
    async with ctx.db.session() as session:
        row = (await session.execute(reads.time_entries(ctx.scope).where(T_TIME_ENTRY.c.id == entry_pk))).one()
    return TimeEntry.from_row(row)


@returns_errors(CreateProjectError)
async def create_project(info: strawberry.Info, input: CreateProjectInput) -> CreateProjectResult:
    """Staff: start an ACTIVE project for a contact."""
    ctx: Context = info.context
    viewer = ctx.require_staff()
    contact_pk = pk_of(input.contact_id, "Contact", field="contactId")
    values = _text_values(input)

    async def create(session: AsyncSession) -> int:
        owner = (await session.execute(ctx.scope.where_id(T_CONTACT, contact_pk).with_for_update(read=True))).first()
        if owner is None:
            raise DomainError("NOT_FOUND", "No contact with this id.", "contactId")
        project_pk = await session.scalar(
            insert(T_PROJECT)
            .values(organization_id=viewer.organization_id, contact_id=contact_pk, status="ACTIVE", **values)
            .returning(T_PROJECT.c.id)
        )
        await record_activity(
            session,
            viewer=viewer,
            organization_id=viewer.organization_id,
            contact_id=contact_pk,
            project_id=project_pk,
            kind="project_created",
            description=f"Project {values['name']} created",
            ip_address=ctx.client_ip,
        )
        return int(project_pk)

    async with ctx.db.transaction() as session:
        project_pk = await receipts.once(
            session, viewer, operation="createProject", input=input, result_type="Project", create=create
        )
    return await ctx.loaders.project.load(project_pk)


@returns_errors(UpdateProjectError)
async def update_project(info: strawberry.Info, input: UpdateProjectInput) -> UpdateProjectResult:
    """Staff: rename, describe, complete or archive a project."""
    ctx: Context = info.context
    viewer = ctx.require_staff()
    project_pk = pk_of(input.id, "Project")
    values = _text_values(input)
    if input.status is not None:
        values["status"] = input.status.value
    async with ctx.db.transaction() as session:
        current = (await session.execute(ctx.scope.where_id(T_PROJECT, project_pk).with_for_update())).first()
        if current is None:
            raise DomainError("NOT_FOUND", "No project with this id.", "id")
        changed = {key: value for key, value in values.items() if getattr(current, key) != value}
        if changed:
            await session.execute(update(T_PROJECT).where(T_PROJECT.c.id == project_pk).values(**changed))
            details: dict[str, Any] = {"fields": sorted(changed)}
            if "status" in changed:
                details |= {"previous_status": current.status, "status": changed["status"]}
            await record_activity(
                session,
                viewer=viewer,
                organization_id=viewer.organization_id,
                contact_id=current.contact_id,
                project_id=project_pk,
                kind="project_updated",
                description=f"Project {changed.get('name', current.name)} updated",
                ip_address=ctx.client_ip,
                details=details,
            )
    return await ctx.loaders.project.load(project_pk)


@returns_errors(CreateTaskError)
async def create_task(info: strawberry.Info, input: CreateTaskInput) -> CreateTaskResult:
    """Staff: add a task to an ACTIVE project."""
    ctx: Context = info.context
    viewer = ctx.require_staff()
    project_pk = pk_of(input.project_id, "Project", field="projectId")
    values = _text_values(input)

    async def create(session: AsyncSession) -> int:
        # FOR SHARE on the project: a concurrent completion waits for this task, or this task sees it
        project = (
            await session.execute(
                ctx.scope.select(T_PROJECT, T_PROJECT, T_CONTACT.c.currency)
                .join(T_CONTACT, T_CONTACT.c.id == T_PROJECT.c.contact_id)
                .where(T_PROJECT.c.id == project_pk)
                .with_for_update(read=True, of=T_PROJECT)
            )
        ).first()
        if project is None:
            raise DomainError("NOT_FOUND", "No project with this id.", "projectId")
        if project.status != "ACTIVE":
            raise DomainError("PROJECT_NOT_ACTIVE", "Tasks can only be added to an active project.", "projectId")
        rate = _rate(input.rate, project.currency) if input.rate is not None else None
        task_pk = await session.scalar(
            insert(T_TASK)
            .values(
                organization_id=viewer.organization_id,
                contact_id=project.contact_id,
                project_id=project_pk,
                billable=input.billable,
                rate=rate,
                **values,
            )
            .returning(T_TASK.c.id)
        )
        await record_activity(
            session,
            viewer=viewer,
            organization_id=viewer.organization_id,
            contact_id=project.contact_id,
            project_id=project_pk,
            kind="task_created",
            description=f"Task {values['name']} added",
            ip_address=ctx.client_ip,
            details={"task_id": task_pk},
        )
        return int(task_pk)

    async with ctx.db.transaction() as session:
        task_pk = await receipts.once(
            session, viewer, operation="createTask", input=input, result_type="Task", create=create
        )
    return await _read_task(ctx, task_pk)


@returns_errors(UpdateTaskError)
async def update_task(info: strawberry.Info, input: UpdateTaskInput) -> UpdateTaskResult:
    """Staff: change a task; a task with BILLED time stays billable."""
    ctx: Context = info.context
    viewer = ctx.require_staff()
    task_pk = pk_of(input.id, "Task")
    values = _text_values(input)
    async with ctx.db.transaction() as session:
        current = (
            await session.execute(
                ctx.scope.select(T_TASK, T_TASK, T_CONTACT.c.currency)
                .join(T_CONTACT, T_CONTACT.c.id == T_TASK.c.contact_id)
                .where(T_TASK.c.id == task_pk)
                .with_for_update(of=T_TASK)
            )
        ).first()
        if current is None:
            raise DomainError("NOT_FOUND", "No task with this id.", "id")
        if input.rate is not None:
            values["rate"] = _rate(input.rate, current.currency)
        if input.billable is not None:
            values["billable"] = input.billable
        changed = {key: value for key, value in values.items() if getattr(current, key) != value}
        if changed.get("billable") is False:
            billed = await session.scalar(
                select(exists().where(T_TIME_ENTRY.c.task_id == task_pk, T_TIME_ENTRY.c.status == "BILLED"))
            )
            if billed:
                raise DomainError("HAS_BILLED_TIME", "This task has billed time; it stays billable.", "billable")
            # the portal lists billable time only: unbilled time of a task that is no longer billable goes with it
            await session.execute(update(T_TIME_ENTRY).where(T_TIME_ENTRY.c.task_id == task_pk).values(billable=False))
        if changed:
            await session.execute(update(T_TASK).where(T_TASK.c.id == task_pk).values(**changed))
            await record_activity(
                session,
                viewer=viewer,
                organization_id=viewer.organization_id,
                contact_id=current.contact_id,
                project_id=current.project_id,
                kind="task_updated",
                description=f"Task {changed.get('name', current.name)} updated",
                ip_address=ctx.client_ip,
                details={"task_id": task_pk, "fields": sorted(changed)},
            )
    return await _read_task(ctx, task_pk)


@returns_errors(CreateTimeEntryError)
async def create_time_entry(info: strawberry.Info, input: CreateTimeEntryInput) -> CreateTimeEntryResult:
    """Staff: log time on a task of an ACTIVE project (UNBILLED)."""
    ctx: Context = info.context
    viewer = ctx.require_staff()
    task_pk = pk_of(input.task_id, "Task", field="taskId")
    minutes = _duration(input.duration_minutes)
    notes = validation.text(input.notes, "notes", max_length=MAX_TEXT)

    async def create(session: AsyncSession) -> int:
        task = (
            await session.execute(
                ctx.scope.select(T_TASK, T_TASK, T_PROJECT.c.status.label("project_status"))
                .join(T_PROJECT, T_PROJECT.c.id == T_TASK.c.project_id)
                .where(T_TASK.c.id == task_pk)
                .with_for_update(read=True)
            )
        ).first()
        if task is None:
            raise DomainError("NOT_FOUND", "No task with this id.", "taskId")
        if task.project_status != "ACTIVE":
            raise DomainError("PROJECT_NOT_ACTIVE", "Time can only be logged on an active project.", "taskId")
        billable = task.billable if input.billable is None else input.billable
        if billable and not task.billable:
            raise DomainError("TASK_NOT_BILLABLE", "A non-billable task takes no billable time.", "billable")
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
                notes=notes,
                billable=billable,
                status="UNBILLED",
            )
            .returning(T_TIME_ENTRY.c.id)
        )
        await record_activity(
            session,
            viewer=viewer,
            organization_id=viewer.organization_id,
            contact_id=task.contact_id,
            project_id=task.project_id,
            kind="time_logged",
            description=f"{hours(minutes)} h logged on {task.name}",
            ip_address=ctx.client_ip,
            details={"task_id": task_pk, "time_entry_id": entry_pk, "minutes": minutes},
        )
        return int(entry_pk)

    async with ctx.db.transaction() as session:
        entry_pk = await receipts.once(
            session, viewer, operation="createTimeEntry", input=input, result_type="TimeEntry", create=create
        )
    return await _read_time_entry(ctx, entry_pk)


@returns_errors(UpdateTimeEntryError)
async def update_time_entry(info: strawberry.Info, input: UpdateTimeEntryInput) -> UpdateTimeEntryResult:
    """Staff: correct a time entry or mark it BILLED / UNBILLED."""
    ctx: Context = info.context
    viewer = ctx.require_staff()
    entry_pk = pk_of(input.id, "TimeEntry")
    values: dict[str, Any] = {}
    if input.duration_minutes is not None:
        values["duration_minutes"] = _duration(input.duration_minutes)
    if input.date is not None:
        values["entry_date"] = input.date
    if input.billable is not None:
        values["billable"] = input.billable
    if input.notes is not None:
        values["notes"] = validation.text(input.notes, "notes", max_length=MAX_TEXT)
    if input.status is not None:
        values["status"] = input.status.value
    async with ctx.db.transaction() as session:
        # the task row is locked too, so the entry's billable flag and the task's cannot drift apart
        current = (
            await session.execute(
                ctx.scope.select(T_TIME_ENTRY, T_TIME_ENTRY, T_TASK.c.billable.label("task_billable"), T_TASK.c.name)
                .join(T_TASK, T_TASK.c.id == T_TIME_ENTRY.c.task_id)
                .where(T_TIME_ENTRY.c.id == entry_pk)
                .with_for_update()
            )
        ).first()
        if current is None:
            raise DomainError("NOT_FOUND", "No time entry with this id.", "id")
        changed = {key: value for key, value in values.items() if getattr(current, key) != value}
        status = changed.get("status", current.status)
        billable = changed.get("billable", current.billable)
        if current.status == "BILLED" and status == "BILLED" and changed.keys() & BILLED_FIXED:
            raise DomainError("ALREADY_BILLED", "Billed time cannot change; mark it UNBILLED first.", "status")
        if billable and not current.task_billable:
            raise DomainError("TASK_NOT_BILLABLE", "A non-billable task takes no billable time.", "billable")
        if status == "BILLED" and not billable:
            field = "billable" if "billable" in changed else "status"
            raise DomainError("INVALID_INPUT", "Only billable time can be BILLED.", field)
        if changed.get("status") == "UNBILLED":
            changed["invoice_id"] = None
        if changed:
            await session.execute(update(T_TIME_ENTRY).where(T_TIME_ENTRY.c.id == entry_pk).values(**changed))
            await record_activity(
                session,
                viewer=viewer,
                organization_id=viewer.organization_id,
                contact_id=current.contact_id,
                project_id=current.project_id,
                kind="time_entry_updated",
                description=f"Time entry on {current.name} updated",
                ip_address=ctx.client_ip,
                details={"task_id": current.task_id, "time_entry_id": entry_pk, "fields": sorted(changed)},
            )
    return await _read_time_entry(ctx, entry_pk)


PORTAL_RULE = (
    " Portal users get a top-level error with `extensions.code = FEATURE_DISABLED` while the organization does not"
    " show projects and timesheets."
)


@strawberry.type
class Query:
    projects: Connection[Project] = strawberry.field(
        resolver=projects, description="Projects, newest first (portal: the contact's)." + PORTAL_RULE
    )
    project: Project | None = strawberry.field(resolver=project, description="One project, or null." + PORTAL_RULE)


@strawberry.type
class Mutation:
    create_project: CreateProjectResult = strawberry.field(resolver=create_project)
    update_project: UpdateProjectResult = strawberry.field(resolver=update_project)
    create_task: CreateTaskResult = strawberry.field(resolver=create_task)
    update_task: UpdateTaskResult = strawberry.field(resolver=update_task)
    create_time_entry: CreateTimeEntryResult = strawberry.field(resolver=create_time_entry)
    update_time_entry: UpdateTimeEntryResult = strawberry.field(resolver=update_time_entry)
