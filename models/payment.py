from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, Column, Date, Index, Integer, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.base import created_at, fk, money, pk, tenant

PAYMENT_MODES = ("CASH", "CHECK", "BANK_TRANSFER", "CARD", "ACH", "SIMULATED", "OTHER")
PAYMENT_STATUSES = ("PENDING", "SUCCEEDED", "FAILED", "REFUNDED")


class Payment(SQLModel, table=True):
    id: int | None = pk()
    organization_id: int = tenant()
    contact_id: int = fk("contact.id")
    amount: Decimal = money()
    currency: str = Field(sa_column=Column(String(3), nullable=False))
    payment_date: date = Field(sa_column=Column(Date, nullable=False))
    mode: str = Field(sa_column=Column(String(16), nullable=False))
    status: str = Field(default="SUCCEEDED", sa_column=Column(String(10), nullable=False))
    reference: str | None = Field(default=None, sa_column=Column(String(100)))
    gateway: str | None = Field(default=None, sa_column=Column(String(20)))
    gateway_reference: str | None = Field(default=None, sa_column=Column(String(255)))
    notes: str | None = Field(default=None, sa_column=Column(Text))
    recorded_by_id: int | None = fk("staff_user.id", nullable=True, ondelete="SET NULL")
    created_at: datetime = created_at()

    __table_args__ = (
        CheckConstraint(f"mode IN {PAYMENT_MODES!r}", name="payment_mode"),
        CheckConstraint(f"status IN {PAYMENT_STATUSES!r}", name="payment_status"),
        CheckConstraint("amount > 0", name="payment_amount_positive"),
        Index("ix_payment_org_date", "organization_id", "payment_date", "id"),
        Index("ix_payment_contact_date", "contact_id", "payment_date", "id"),
        Index("uq_payment_gateway_reference", "gateway", "gateway_reference", unique=True),
    )


class PaymentAllocation(SQLModel, table=True):
    """The part of one payment applied to one invoice."""

    __tablename__ = "payment_allocation"

    id: int | None = pk()
    organization_id: int = tenant()
    payment_id: int = fk("payment.id")
    invoice_id: int = fk("invoice.id")
    amount: Decimal = money()

    __table_args__ = (
        CheckConstraint("amount > 0", name="payment_allocation_amount_positive"),
        UniqueConstraint("payment_id", "invoice_id", name="uq_payment_allocation"),
        Index("ix_payment_allocation_invoice", "invoice_id"),
    )


class SavedPaymentMethod(SQLModel, table=True):
    """A card or bank account kept at Stripe for a contact: Stripe ids and display data only."""

    __tablename__ = "saved_payment_method"

    id: int | None = pk()
    organization_id: int = tenant()
    contact_id: int = fk("contact.id", index=True)
    stripe_payment_method_id: str = Field(sa_column=Column(String(255), nullable=False, unique=True))
    type: str = Field(sa_column=Column(String(10), nullable=False))
    brand: str | None = Field(default=None, sa_column=Column(String(50)))
    bank_name: str | None = Field(default=None, sa_column=Column(String(100)))
    last4: str = Field(sa_column=Column(String(4), nullable=False))
    exp_month: int | None = Field(default=None, sa_column=Column(Integer))
    exp_year: int | None = Field(default=None, sa_column=Column(Integer))
    created_at: datetime = created_at()

    __table_args__ = (CheckConstraint("type IN ('CARD', 'ACH')", name="saved_payment_method_type"),)
