from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ARRAY, BigInteger, Boolean, CheckConstraint, Column, ForeignKey, Index, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from models.base import created_at, pk, tenant, timestamp


class Organization(SQLModel, table=True):
    """The business that runs a portal."""

    id: int | None = pk()
    name: str = Field(sa_column=Column(String(200), nullable=False))
    portal_slug: str = Field(sa_column=Column(String(63), nullable=False, unique=True))
    base_currency: str = Field(sa_column=Column(String(3), nullable=False))
    locale: str = Field(default="en_US", sa_column=Column(String(16), nullable=False, server_default="en_US"))
    address: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False, server_default="{}"))
    email: str | None = Field(default=None, sa_column=Column(String(320)))
    portal_enabled: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, server_default="false"))
    portal_show_projects: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, server_default="false"))
    portal_allow_reviews: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, server_default="false"))
    payment_gateways: list[str] = Field(
        default_factory=list, sa_column=Column(ARRAY(String(20)), nullable=False, server_default="{}")
    )
    notification_emails: list[str] = Field(
        default_factory=list, sa_column=Column(ARRAY(String(320)), nullable=False, server_default="{}")
    )
    created_at: datetime = created_at()

    __table_args__ = (CheckConstraint("portal_slug ~ '^[a-z0-9][a-z0-9-]*$'", name="organization_slug_format"),)


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


class DocumentCounter(SQLModel, table=True):
    """Next sequential number per organization and document kind (row-locked on use)."""

    __tablename__ = "document_counter"

    organization_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("organization.id", ondelete="CASCADE"), primary_key=True)
    )
    kind: str = Field(sa_column=Column(String(20), primary_key=True))
    next_value: int = Field(default=1, sa_column=Column(BigInteger, nullable=False, server_default=text("1")))
