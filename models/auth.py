from __future__ import annotations

from datetime import datetime

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
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import INET
from sqlmodel import Field, SQLModel

from models.base import created_at, fk, pk, tenant, timestamp


class AuthSession(SQLModel, table=True):
    """A signed-in session of a staff user or a contact person. Only the token's SHA-256 is stored."""

    __tablename__ = "auth_session"

    id: int | None = pk()
    organization_id: int = tenant()
    staff_user_id: int | None = fk("staff_user.id", nullable=True)
    contact_person_id: int | None = fk("contact_person.id", nullable=True)
    token_hash: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False, unique=True))
    created_at: datetime = created_at()
    last_seen_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    expires_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    revoked_at: datetime | None = timestamp()
    user_agent: str | None = Field(default=None, sa_column=Column(String(500)))
    ip_address: str | None = Field(default=None, sa_column=Column(INET))

    __table_args__ = (
        CheckConstraint("num_nonnulls(staff_user_id, contact_person_id) = 1", name="auth_session_one_subject"),
        Index("ix_auth_session_staff", "staff_user_id"),
        Index("ix_auth_session_contact_person", "contact_person_id"),
    )


class AuthThrottle(SQLModel, table=True):
    """Failed sign-in counters per key (an account or a client address), shared by every app process."""

    __tablename__ = "auth_throttle"

    key: str = Field(sa_column=Column(String(400), primary_key=True))
    failures: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    last_failure_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    locked_until: datetime | None = timestamp()


class OneTimeToken(SQLModel, table=True):
    """Invitation and password-reset tokens: random, stored as SHA-256, expiring, single use."""

    __tablename__ = "one_time_token"

    id: int | None = pk()
    organization_id: int = tenant()
    kind: str = Field(sa_column=Column(String(10), nullable=False))
    token_hash: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False, unique=True))
    staff_user_id: int | None = fk("staff_user.id", nullable=True)
    contact_person_id: int | None = fk("contact_person.id", nullable=True)
    created_at: datetime = created_at()
    expires_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    used_at: datetime | None = timestamp()
    voided_at: datetime | None = timestamp()

    __table_args__ = (
        CheckConstraint("kind IN ('INVITE', 'RESET')", name="one_time_token_kind"),
        CheckConstraint("num_nonnulls(staff_user_id, contact_person_id) = 1", name="one_time_token_one_subject"),
        Index("ix_one_time_token_person", "contact_person_id", "kind"),
        Index("ix_one_time_token_staff", "staff_user_id", "kind"),
    )


class RecoveryCode(SQLModel, table=True):
    """One-time two-factor recovery codes, stored as SHA-256."""

    __tablename__ = "recovery_code"

    id: int | None = pk()
    staff_user_id: int | None = fk("staff_user.id", nullable=True)
    contact_person_id: int | None = fk("contact_person.id", nullable=True)
    code_hash: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))
    created_at: datetime = created_at()
    used_at: datetime | None = timestamp()

    __table_args__ = (
        CheckConstraint("num_nonnulls(staff_user_id, contact_person_id) = 1", name="recovery_code_one_subject"),
        Index("ix_recovery_code_staff", "staff_user_id"),
        Index("ix_recovery_code_person", "contact_person_id"),
    )


class RateLimitBucket(SQLModel, table=True):
    """A token bucket per session or client address for GraphQL operations, shared by every app process.

    The table is UNLOGGED (see its migration): buckets are worth nothing after a crash, and skipping the WAL keeps
    the one write per request cheap.
    """

    __tablename__ = "rate_limit_bucket"

    key: str = Field(sa_column=Column(String(200), primary_key=True))
    tokens: float = Field(sa_column=Column(Float, nullable=False))
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
