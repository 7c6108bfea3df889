"""The business's customers and their people (portal users are contact persons)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, CheckConstraint, Column, Index, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from models.base import created_at, fk, pk, tenant, timestamp

PORTAL_STATUSES = ("NOT_INVITED", "INVITED", "ACTIVE", "DISABLED")


class Contact(SQLModel, table=True):
    """The business's customer: a company or a person."""

    id: int | None = pk()
    organization_id: int = tenant()
    display_name: str = Field(sa_column=Column(String(200), nullable=False))
    company_name: str | None = Field(default=None, sa_column=Column(String(200)))
    email: str | None = Field(default=None, sa_column=Column(String(320)))
    phone: str | None = Field(default=None, sa_column=Column(String(50)))
    currency: str = Field(sa_column=Column(String(3), nullable=False))
    billing_address: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSONB, nullable=False, server_default="{}")
    )
    shipping_address: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSONB, nullable=False, server_default="{}")
    )
    notes: str | None = Field(default=None, sa_column=Column(Text))
    stripe_customer_id: str | None = Field(default=None, sa_column=Column(String(255)))
    created_at: datetime = created_at()
    updated_at: datetime | None = timestamp()

    __table_args__ = (Index("ix_contact_org_name", "organization_id", "display_name", "id"),)


class ContactPerson(SQLModel, table=True):
    """A person at a contact; portal users are contact persons. Emails are stored lower-cased."""

    __tablename__ = "contact_person"

    id: int | None = pk()
    organization_id: int = tenant()
    contact_id: int = fk("contact.id")
    first_name: str = Field(sa_column=Column(String(100), nullable=False))
    last_name: str | None = Field(default=None, sa_column=Column(String(100)))
    email: str | None = Field(default=None, sa_column=Column(String(320)))
    phone: str | None = Field(default=None, sa_column=Column(String(50)))
    mobile: str | None = Field(default=None, sa_column=Column(String(50)))
    is_primary: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, server_default="false"))
    portal_status: str = Field(
        default="NOT_INVITED", sa_column=Column(String(12), nullable=False, server_default="NOT_INVITED")
    )
    password_hash: str | None = Field(default=None, sa_column=Column(Text))
    totp_secret: str | None = Field(default=None, sa_column=Column(String(64)))
    totp_enabled_at: datetime | None = timestamp()
    # the last 30-second step whose code signed in: a code is single use
    totp_last_step: int | None = Field(default=None, sa_column=Column(BigInteger))
    created_at: datetime = created_at()
    updated_at: datetime | None = timestamp()

    __table_args__ = (
        CheckConstraint(f"portal_status IN {PORTAL_STATUSES!r}", name="contact_person_portal_status"),
        # One email is one portal login per organization (portal login is by organization slug + email).
        Index("uq_contact_person_org_email", "organization_id", "email", unique=True),
        Index("ix_contact_person_contact", "contact_id", "id"),
    )
