"""Tables of the platform rather than of a domain: mail outbox, persisted queries, rate-limit buckets, receipts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from models.base import created_at, fk, pk, tenant, timestamp


class RateLimitBucket(SQLModel, table=True):
    """A token bucket per session or client address for GraphQL operations, shared by every app process.

    The table is UNLOGGED (see its migration): buckets are worth nothing after a crash, and skipping the WAL keeps
    the one write per request cheap.
    """

    __tablename__ = "rate_limit_bucket"

    key: str = Field(sa_column=Column(String(200), primary_key=True))
    tokens: float = Field(sa_column=Column(Float, nullable=False))
    # what the last take gave beyond the operation's cost (a process's allowance; at most what the bucket held)
    granted: float = Field(default=0.0, sa_column=Column(Float, nullable=False, server_default="0"))
    updated_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class MutationReceipt(SQLModel, table=True):
    """What a create mutation made for a client's idempotency key, so a retried request returns the same object.

    Written in the mutation's own transaction: the receipt exists exactly when the write committed.
    """

    __tablename__ = "mutation_receipt"

    id: int | None = pk()
    organization_id: int = tenant()
    subject: str = Field(sa_column=Column(String(40), nullable=False))  # "staff:<id>" or "person:<id>"
    operation: str = Field(sa_column=Column(String(60), nullable=False))
    client_key: str = Field(sa_column=Column(String(100), nullable=False))
    fingerprint: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))
    result_type: str | None = Field(default=None, sa_column=Column(String(40)))
    result_id: int | None = Field(default=None, sa_column=Column(BigInteger))
    created_at: datetime = created_at()

    __table_args__ = (
        UniqueConstraint("organization_id", "subject", "operation", "client_key", name="uq_mutation_receipt_key"),
        Index("ix_mutation_receipt_created", "created_at"),
    )


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


class PersistedQuery(SQLModel, table=True):
    """Documents registered at run time through Automatic Persisted Queries (outside allow-list mode)."""

    __tablename__ = "persisted_query"

    sha256: str = Field(sa_column=Column(String(64), primary_key=True))
    document: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = created_at()
