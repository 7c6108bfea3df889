"""The business's customers and their people (portal users are contact persons)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Boolean, CheckConstraint, Column, Index, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from models.base import created_at, fk, pk, tenant, timestamp
from models.documents import one_of


class PortalStatus(StrEnum):
    """A contact person's portal access (the one source of the check constraint and the GraphQL enum)."""

    NOT_INVITED = "NOT_INVITED"
    INVITED = "INVITED"  # an invitation link is out
    ACTIVE = "ACTIVE"  # a password is set: the person signs in
    DISABLED = "DISABLED"  # staff ended the access; a new invitation starts it again


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
        default=PortalStatus.NOT_INVITED,
        sa_column=Column(String(12), nullable=False, server_default=PortalStatus.NOT_INVITED.value),
    )
    password_hash: str | None = Field(default=None, sa_column=Column(Text))
    totp_secret: str | None = Field(default=None, sa_column=Column(String(64)))
    totp_enabled_at: datetime | None = timestamp()
    # the last 30-second step whose code signed in: a code is single use
    totp_last_step: int | None = Field(default=None, sa_column=Column(BigInteger))
    created_at: datetime = created_at()
    updated_at: datetime | None = timestamp()

    __table_args__ = (
        CheckConstraint(one_of("portal_status", PortalStatus), name="contact_person_portal_status"),
        # One email is one portal login per organization (portal login is by organization slug + email).
        Index("uq_contact_person_org_email", "organization_id", "email", unique=True),
        Index("ix_contact_person_contact", "contact_id", "id"),
    )
