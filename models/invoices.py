"""Invoices."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ARRAY, CheckConstraint, Column, Date, Index, String, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from models.base import created_at, fk, money, pk, tenant, timestamp

INVOICE_STATUSES = ("DRAFT", "SENT", "PARTIALLY_PAID", "PAID", "VOID")  # OVERDUE is derived from due_date


INVOICE_KINDS = ("REGULAR", "RETAINER")


class Invoice(SQLModel, table=True):
    id: int | None = pk()
    organization_id: int = tenant()
    contact_id: int = fk("contact.id")
    number: str = Field(sa_column=Column(String(32), nullable=False))
    reference: str | None = Field(default=None, sa_column=Column(String(100)))
    kind: str = Field(default="REGULAR", sa_column=Column(String(10), nullable=False, server_default="REGULAR"))
    status: str = Field(default="DRAFT", sa_column=Column(String(16), nullable=False))
    issue_date: date = Field(sa_column=Column(Date, nullable=False))
    due_date: date | None = Field(default=None, sa_column=Column(Date))
    currency: str = Field(sa_column=Column(String(3), nullable=False))
    subtotal: Decimal = money(default=Decimal(0))
    tax_total: Decimal = money(default=Decimal(0))
    total: Decimal = money(default=Decimal(0))
    amount_paid: Decimal = money(default=Decimal(0))
    balance_due: Decimal = money(default=Decimal(0))
    payment_gateways: list[str] = Field(
        default_factory=list, sa_column=Column(ARRAY(String(20)), nullable=False, server_default="{}")
    )
    notes: str | None = Field(default=None, sa_column=Column(Text))
    terms: str | None = Field(default=None, sa_column=Column(Text))
    sent_at: datetime | None = timestamp()
    viewed_at: datetime | None = timestamp()
    viewed_by_id: int | None = fk("contact_person.id", nullable=True, ondelete="SET NULL")
    voided_at: datetime | None = timestamp()
    created_at: datetime = created_at()
    updated_at: datetime | None = timestamp()

    __table_args__ = (
        CheckConstraint(f"status IN {INVOICE_STATUSES!r}", name="invoice_status"),
        CheckConstraint(f"kind IN {INVOICE_KINDS!r}", name="invoice_kind"),
        CheckConstraint("balance_due >= 0", name="invoice_balance_not_negative"),
        UniqueConstraint("organization_id", "number", name="uq_invoice_org_number"),
        Index("ix_invoice_org_date", "organization_id", "issue_date", "id"),
        Index("ix_invoice_contact_date", "contact_id", "issue_date", "id"),
        # the dashboard's outstanding totals
        Index(
            "ix_invoice_contact_outstanding",
            "contact_id",
            "kind",
            postgresql_where=text("status IN ('SENT', 'PARTIALLY_PAID')"),
        ),
    )
