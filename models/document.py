"""Estimates, invoices and their line items."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ARRAY, CheckConstraint, Column, Date, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import INET
from sqlmodel import Field, SQLModel

from models.base import PERCENT, QUANTITY, created_at, fk, money, pk, tenant, timestamp

ESTIMATE_STATUSES = ("DRAFT", "SENT", "ACCEPTED", "DECLINED", "INVOICED")  # EXPIRED is derived from expiry_date
INVOICE_STATUSES = ("DRAFT", "SENT", "PARTIALLY_PAID", "PAID", "VOID")  # OVERDUE is derived from due_date
INVOICE_KINDS = ("REGULAR", "RETAINER")


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


class LineItem(SQLModel, table=True):
    """A line of an estimate or of an invoice (exactly one of the two)."""

    __tablename__ = "line_item"

    id: int | None = pk()
    organization_id: int = tenant()
    estimate_id: int | None = fk("estimate.id", nullable=True)
    invoice_id: int | None = fk("invoice.id", nullable=True)
    position: int = Field(sa_column=Column(Integer, nullable=False))
    name: str = Field(sa_column=Column(String(200), nullable=False))
    description: str | None = Field(default=None, sa_column=Column(Text))
    quantity: Decimal = Field(sa_column=Column(QUANTITY, nullable=False))
    rate: Decimal = money()
    discount_percent: Decimal = Field(default=Decimal(0), sa_column=Column(PERCENT, nullable=False, server_default="0"))
    tax_name: str | None = Field(default=None, sa_column=Column(String(50)))
    tax_percent: Decimal = Field(default=Decimal(0), sa_column=Column(PERCENT, nullable=False, server_default="0"))
    amount: Decimal = money()
    tax_amount: Decimal = money()

    __table_args__ = (
        CheckConstraint("(estimate_id IS NULL) <> (invoice_id IS NULL)", name="line_item_one_document"),
        Index("ix_line_item_estimate", "estimate_id", "position"),
        Index("ix_line_item_invoice", "invoice_id", "position"),
    )
