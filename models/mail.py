from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, Column, DateTime, Index, Integer, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from models.base import created_at, fk, pk, timestamp


class OutboxMail(SQLModel, table=True):
    """An email written in the same transaction as the action that causes it; a worker delivers it."""

    __tablename__ = "outbox_mail"

    id: int | None = pk()
    organization_id: int | None = fk("organization.id", nullable=True, ondelete="SET NULL")
    kind: str = Field(sa_column=Column(String(40), nullable=False))
    to_address: str = Field(sa_column=Column(String(320), nullable=False))
    subject: str = Field(sa_column=Column(String(300), nullable=False))
    text_body: str = Field(sa_column=Column(Text, nullable=False))
    html_body: str | None = Field(default=None, sa_column=Column(Text))
    attachments: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSONB, nullable=False, server_default="[]")
    )
    message_id: str = Field(sa_column=Column(String(200), nullable=False, unique=True))
    status: str = Field(default="PENDING", sa_column=Column(String(10), nullable=False, server_default="PENDING"))
    attempts: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    next_attempt_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime = created_at()
    sent_at: datetime | None = timestamp()

    __table_args__ = (
        CheckConstraint("status IN ('PENDING', 'SENT', 'FAILED')", name="outbox_mail_status"),
        Index("ix_outbox_mail_due", "next_attempt_at", postgresql_where="status = 'PENDING'"),
    )
