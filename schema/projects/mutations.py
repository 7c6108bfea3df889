"""Inputs, errors and results of the staff mutations on projects, tasks and time entries."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import strawberry

from schema.base import error_codes, mutation_types
from schema.projects.types import Project, ProjectStatus, Task, TimeEntry, TimeEntryStatus
from services.receipts import KEY_DESCRIPTION

MAX_ENTRY_MINUTES = 24 * 60


@strawberry.input(description="A new project for a contact; it starts ACTIVE.")
class CreateProjectInput:
    contact_id: strawberry.ID
    name: str
    description: str | None = None
    idempotency_key: str | None = strawberry.field(default=None, description=KEY_DESCRIPTION)


@strawberry.input(description="Only the fields given change; an empty description clears it.")
class UpdateProjectInput:
    id: strawberry.ID
    name: str | None = None
    description: str | None = None
    status: ProjectStatus | None = None


@strawberry.input(description="A new task of an ACTIVE project.")
class CreateTaskInput:
    project_id: strawberry.ID
    name: str
    description: str | None = None
    billable: bool = strawberry.field(default=True, description="Billable tasks (and their time) show in the portal.")
    rate: Decimal | None = strawberry.field(
        default=None, description="Hourly rate in the contact's currency, rounded to its minor unit."
    )
    idempotency_key: str | None = strawberry.field(default=None, description=KEY_DESCRIPTION)


@strawberry.input(
    description="Only the fields given change. Making a task non-billable makes its unbilled time non-billable too; "
    "it is refused while the task has BILLED time."
)
class UpdateTaskInput:
    id: strawberry.ID
    name: str | None = None
    description: str | None = None
    billable: bool | None = None
    rate: Decimal | None = None


@strawberry.input(
    description="Time logged against a task of an ACTIVE project; the project and contact follow the task."
)
class CreateTimeEntryInput:
    task_id: strawberry.ID
    date: dt.date
    duration_minutes: int = strawberry.field(description=f"Greater than 0, at most {MAX_ENTRY_MINUTES} (24 hours).")
    notes: str | None = None
    billable: bool | None = strawberry.field(
        default=None, description="Default: the task's billable flag. A non-billable task takes no billable time."
    )
    idempotency_key: str | None = strawberry.field(default=None, description=KEY_DESCRIPTION)


@strawberry.input(
    description="Only the fields given change. A BILLED entry keeps its date, duration and billable flag unless the "
    "same update sets it back to UNBILLED."
)
class UpdateTimeEntryInput:
    id: strawberry.ID
    date: dt.date | None = None
    duration_minutes: int | None = None
    notes: str | None = None
    billable: bool | None = None
    status: TimeEntryStatus | None = strawberry.field(
        default=None, description="UNBILLED or BILLED (set by staff); only billable time can be BILLED."
    )


ProjectErrorCode = error_codes("ProjectErrorCode", "NOT_FOUND INVALID_INPUT IDEMPOTENCY_KEY_REUSED")


TaskErrorCode = error_codes(
    "TaskErrorCode", "NOT_FOUND INVALID_INPUT PROJECT_NOT_ACTIVE HAS_BILLED_TIME IDEMPOTENCY_KEY_REUSED"
)


TimeEntryErrorCode = error_codes(
    "TimeEntryErrorCode",
    "NOT_FOUND INVALID_INPUT INVALID_DURATION PROJECT_NOT_ACTIVE",
    "TASK_NOT_BILLABLE ALREADY_BILLED IDEMPOTENCY_KEY_REUSED",
)


CreateProjectError, CreateProjectResult = mutation_types("CreateProject", Project, shared=ProjectErrorCode)


UpdateProjectError, UpdateProjectResult = mutation_types("UpdateProject", Project, shared=ProjectErrorCode)


CreateTaskError, CreateTaskResult = mutation_types("CreateTask", Task, shared=TaskErrorCode)


UpdateTaskError, UpdateTaskResult = mutation_types("UpdateTask", Task, shared=TaskErrorCode)


CreateTimeEntryError, CreateTimeEntryResult = mutation_types("CreateTimeEntry", TimeEntry, shared=TimeEntryErrorCode)


UpdateTimeEntryError, UpdateTimeEntryResult = mutation_types("UpdateTimeEntry", TimeEntry, shared=TimeEntryErrorCode)
