"""The organization: the business that runs a portal, and its portal settings."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ARRAY, Boolean, CheckConstraint, Column, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from models.base import created_at, pk


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
    # how to pay other than online (bank details, checks): shown on every invoice in the portal
    payment_instructions: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime = created_at()

    __table_args__ = (CheckConstraint("portal_slug ~ '^[a-z0-9][a-z0-9-]*$'", name="organization_slug_format"),)
