"""Who may sign in and how: staff users, sessions, sign-in throttles, one-time tokens, recovery codes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.dialects.postgresql import INET
from sqlmodel import Field, SQLModel

from models.base import created_at, fk, pk, tenant, timestamp

_ONE_SUBJECT = "num_nonnulls(staff_user_id, contact_person_id) = 1"  # a staff user's or a contact person's


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
        CheckConstraint(_ONE_SUBJECT, name="auth_session_one_subject"),
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
        CheckConstraint(_ONE_SUBJECT, name="one_time_token_one_subject"),
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
        CheckConstraint(_ONE_SUBJECT, name="recovery_code_one_subject"),
        Index("ix_recovery_code_staff", "staff_user_id"),
        Index("ix_recovery_code_person", "contact_person_id"),
    )


class StaffUser(SQLModel, table=True):
    """A member of one organization. Emails are stored lower-cased and are unique across organizations."""

    __tablename__ = "staff_user"

    id: int | None = pk()
    organization_id: int = tenant()
    email: str = Field(sa_column=Column(String(320), nullable=False, unique=True))
    name: str = Field(sa_column=Column(String(200), nullable=False))
    role: str = Field(default="STAFF", sa_column=Column(String(10), nullable=False))
    password_hash: str = Field(sa_column=Column(Text, nullable=False))
    is_active: bool = Field(default=True, sa_column=Column(Boolean, nullable=False, server_default="true"))
    totp_secret: str | None = Field(default=None, sa_column=Column(String(64)))
    totp_enabled_at: datetime | None = timestamp()
    # the last 30-second step whose code signed in: a code is single use
    totp_last_step: int | None = Field(default=None, sa_column=Column(BigInteger))
    created_at: datetime = created_at()

    __table_args__ = (
        CheckConstraint("role IN ('OWNER', 'ADMIN', 'STAFF')", name="staff_user_role"),
        Index("ix_staff_user_organization", "organization_id"),
    )
