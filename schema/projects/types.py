"""Projects, their billable tasks and time entries."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import strawberry

from core.money import quantize
from models import projects
from schema.base import After, Before, Connection, First, Last, Node, from_columns
from schema.contacts.types import Contact, contact_field
from schema.conversations.types import Comment

ProjectStatus = strawberry.enum(projects.ProjectStatus)


TimeEntryStatus = strawberry.enum(projects.TimeEntryStatus)


@strawberry.input
class ProjectFilter:
    status: list[ProjectStatus] | None = None
    search: str | None = None
    contact_id: strawberry.ID | None = strawberry.field(default=None, description="Staff: one contact's projects.")


MINUTES_PER_HOUR = Decimal(60)


def hours(minutes: int) -> Decimal:
    """Hours to the hundredth, always two decimals ("1.50", "0.00"): the format of money amounts, so a UI formats
    both one way."""
    return (Decimal(minutes) / MINUTES_PER_HOUR).quantize(Decimal("0.01"))


@strawberry.type(description="A billable (or not) task of a project, with hours derived from its time entries.")
class Task(Node):
    name: str
    description: str | None
    billable: bool
    rate: Decimal | None
    logged_hours: Decimal
    billed_hours: Decimal
    unbilled_hours: Decimal
    pk: strawberry.Private[int]

    @staticmethod
    def from_row(row: Any) -> Task:
        return from_columns(
            Task,
            row,
            rate=quantize(row.rate, row.currency) if row.rate is not None else None,
            logged_hours=hours(row.logged_minutes),
            billed_hours=hours(row.billed_minutes),
            unbilled_hours=hours(row.logged_minutes - row.billed_minutes),
        )


@strawberry.type(description="Time logged against a task.")
class TimeEntry(Node):
    date: dt.date
    duration_minutes: int
    hours: Decimal
    notes: str | None
    billable: bool
    status: TimeEntryStatus
    task_name: str
    task_id: strawberry.Private[int]

    @staticmethod
    def from_row(row: Any) -> TimeEntry:
        return from_columns(TimeEntry, row, date=row.entry_date, hours=hours(row.duration_minutes))


@strawberry.type(description="Work done for a contact.")
class Project(Node):
    name: str
    description: str | None
    status: ProjectStatus
    created_at: dt.datetime
    pk: strawberry.Private[int]
    contact_id: strawberry.Private[int]

    contact: Contact = contact_field()

    @strawberry.field(description="Tasks; the portal lists billable tasks only.")
    async def tasks(self, info: strawberry.Info) -> list[Task]:
        return await info.context.loaders.tasks_by_project.load(self.pk)

    @strawberry.field(description="Time entries, newest first; the portal lists billable entries only.")
    async def time_entries(
        self, info: strawberry.Info, first: First = None, after: After = None, last: Last = None, before: Before = None
    ) -> Connection[TimeEntry]:
        from resolvers.pagination import Paging
        from resolvers.projects.queries import time_entries_of

        return await time_entries_of(info, self.pk, Paging(first, after, last, before))

    @strawberry.field(description="Comments the viewer may see, oldest first.")
    async def comments(
        self, info: strawberry.Info, first: First = None, after: After = None, last: Last = None, before: Before = None
    ) -> Connection[Comment]:
        from resolvers.conversations.comments import comments_on
        from resolvers.pagination import Paging

        return await comments_on(info, self, Paging(first, after, last, before))

    @staticmethod
    def from_row(row: Any) -> Project:
        return from_columns(Project, row)
