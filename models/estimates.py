"""Estimates."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, Column, Date, Index, String, Text, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import INET
from sqlmodel import Field, SQLModel

from models.base import created_at, fk, money, pk, tenant, timestamp

ESTIMATE_STATUSES = ("DRAFT", "SENT", "ACCEPTED", "DECLINED", "INVOICED")  # EXPIRED is derived from expiry_date


class Estimate(SQLModel, table=True):
    id: int | None = pk()
    organization_id: int = tenant()
    contact_id: int = fk("contact.id")
    number: str = Field(sa_column=Column(String(32), nullable=False))
    reference: str | None = Field(default=None, sa_column=Column(String(100)))
    status: str = Field(default="DRAFT", sa_column=Column(String(12), nullable=False))
    issue_date: date = Field(sa_column=Column(Date, nullable=False))
    expiry_date: date | None = Field(default=None, sa_column=Column(Date))
    currency: str = Field(sa_column=Column(String(3), nullable=False))
    subtotal: Decimal = money(default=Decimal(0))
    tax_total: Decimal = money(default=Decimal(0))
    total: Decimal = money(default=Decimal(0))
    notes: str | None = Field(default=None, sa_column=Column(Text))
    terms: str | None = Field(default=None, sa_column=Column(Text))
    sent_at: datetime | None = timestamp()
    viewed_at: datetime | None = timestamp()
    viewed_by_id: int | None = fk("contact_person.id", nullable=True, ondelete="SET NULL")
    accepted_at: datetime | None = timestamp()
    accepted_by_id: int | None = fk("contact_person.id", nullable=True, ondelete="SET NULL")
    accepted_ip: str | None = Field(default=None, sa_column=Column(INET))
    signature_name: str | None = Field(default=None, sa_column=Column(String(200)))
    declined_at: datetime | None = timestamp()
    decline_reason: str | None = Field(default=None, sa_column=Column(Text))
    invoice_id: int | None = fk("invoice.id", nullable=True, ondelete="SET NULL")
    created_at: datetime = created_at()
    updated_at: datetime | None = timestamp()

    __table_args__ = (
        CheckConstraint(f"status IN {ESTIMATE_STATUSES!r}", name="estimate_status"),
        UniqueConstraint("organization_id", "number", name="uq_estimate_org_number"),
        Index("ix_estimate_org_date", "organization_id", "issue_date", "id"),
        Index("ix_estimate_contact_date", "contact_id", "issue_date", "id"),
        # the portal dashboard counts a contact's estimates awaiting approval
        Index("ix_estimate_contact_sent", "contact_id", "expiry_date", postgresql_where=text("status = 'SENT'")),
    )
