"""Projects, their billable tasks and time entries, and their statuses (the one source of the check constraints
and the GraphQL enums)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import Boolean, CheckConstraint, Column, Date, Index, Integer, String, Text
from sqlmodel import Field, SQLModel

from models.base import created_at, fk, money, pk, tenant
from models.documents import one_of


class ProjectStatus(StrEnum):
    ACTIVE = "ACTIVE"  # the only status that takes new tasks and time
    COMPLETED = "COMPLETED"
    ARCHIVED = "ARCHIVED"


class TimeEntryStatus(StrEnum):
    UNBILLED = "UNBILLED"
    BILLED = "BILLED"  # set by staff; an invoice was based on it


class Project(SQLModel, table=True):
    id: int | None = pk()
    organization_id: int = tenant()
    contact_id: int = fk("contact.id")
    name: str = Field(sa_column=Column(String(200), nullable=False))
    description: str | None = Field(default=None, sa_column=Column(Text))
    status: str = Field(
        default=ProjectStatus.ACTIVE,
        sa_column=Column(String(10), nullable=False, server_default=ProjectStatus.ACTIVE.value),
    )
    created_at: datetime = created_at()

    __table_args__ = (
        CheckConstraint(one_of("status", ProjectStatus), name="project_status"),
        Index("ix_project_org", "organization_id", "id"),
        Index("ix_project_contact", "contact_id", "id"),
    )


class Task(SQLModel, table=True):
    id: int | None = pk()
    organization_id: int = tenant()
    contact_id: int = fk("contact.id")
    project_id: int = fk("project.id")
    name: str = Field(sa_column=Column(String(200), nullable=False))
    description: str | None = Field(default=None, sa_column=Column(Text))
    billable: bool = Field(default=True, sa_column=Column(Boolean, nullable=False, server_default="true"))
    rate: Decimal | None = money(nullable=True)
    created_at: datetime = created_at()

    __table_args__ = (Index("ix_task_project", "project_id", "id"),)


class TimeEntry(SQLModel, table=True):
    __tablename__ = "time_entry"

    id: int | None = pk()
    organization_id: int = tenant()
    contact_id: int = fk("contact.id")
    project_id: int = fk("project.id")
    task_id: int = fk("task.id")
    staff_user_id: int | None = fk("staff_user.id", nullable=True, ondelete="SET NULL")
    entry_date: date = Field(sa_column=Column(Date, nullable=False))
    duration_minutes: int = Field(sa_column=Column(Integer, nullable=False))
    notes: str | None = Field(default=None, sa_column=Column(Text))
    billable: bool = Field(default=True, sa_column=Column(Boolean, nullable=False, server_default="true"))
    status: str = Field(
        default=TimeEntryStatus.UNBILLED,
        sa_column=Column(String(10), nullable=False, server_default=TimeEntryStatus.UNBILLED.value),
    )
    invoice_id: int | None = fk("invoice.id", nullable=True, ondelete="SET NULL")
    created_at: datetime = created_at()

    __table_args__ = (
        CheckConstraint(one_of("status", TimeEntryStatus), name="time_entry_status"),
        CheckConstraint("duration_minutes > 0", name="time_entry_duration_positive"),
        Index("ix_time_entry_project_date", "project_id", "entry_date", "id"),
        Index("ix_time_entry_task", "task_id"),
    )
