"""Comments on documents and projects, and reviews of the organization."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, Column, Index, SmallInteger, Text
from sqlmodel import Field, SQLModel

from models.base import created_at, fk, pk, tenant, timestamp

_ONE_TARGET = "num_nonnulls(estimate_id, invoice_id, project_id) = 1"


class Comment(SQLModel, table=True):
    """A comment on an estimate, an invoice or a project, by a staff user or a contact person."""

    id: int | None = pk()
    organization_id: int = tenant()
    contact_id: int = fk("contact.id")
    estimate_id: int | None = fk("estimate.id", nullable=True)
    invoice_id: int | None = fk("invoice.id", nullable=True)
    project_id: int | None = fk("project.id", nullable=True)
    author_staff_id: int | None = fk("staff_user.id", nullable=True, ondelete="SET NULL")
    author_contact_person_id: int | None = fk("contact_person.id", nullable=True, ondelete="SET NULL")
    body: str = Field(sa_column=Column(Text, nullable=False))
    visible_in_portal: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, server_default="false"))
    created_at: datetime = created_at()

    __table_args__ = (
        CheckConstraint(_ONE_TARGET, name="comment_one_target"),
        CheckConstraint("char_length(body) BETWEEN 1 AND 5000", name="comment_body_length"),
        Index("ix_comment_estimate", "estimate_id", "id"),
        Index("ix_comment_invoice", "invoice_id", "id"),
        Index("ix_comment_project", "project_id", "id"),
    )


class Review(SQLModel, table=True):
    """A contact person's rating of the organization; one per person."""

    id: int | None = pk()
    organization_id: int = tenant()
    contact_id: int = fk("contact.id")
    contact_person_id: int = fk("contact_person.id")
    rating: int = Field(sa_column=Column(SmallInteger, nullable=False))
    text: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime = created_at()
    updated_at: datetime | None = timestamp()

    __table_args__ = (
        CheckConstraint("rating BETWEEN 1 AND 5", name="review_rating_range"),
        Index("uq_review_contact_person", "contact_person_id", unique=True),
        Index("ix_review_org", "organization_id", "id"),
    )
