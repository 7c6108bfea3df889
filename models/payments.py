"""Payments and their allocations, saved payment methods, online payment attempts and Stripe events; the payment
modes and statuses (the one source of the check constraints below and of the GraphQL enums)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, CheckConstraint, Column, Date, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from models.base import created_at, fk, money, pk, tenant, timestamp
from models.documents import one_of


class PaymentMode(StrEnum):
    CASH = "CASH"
    CHECK = "CHECK"
    BANK_TRANSFER = "BANK_TRANSFER"
    CARD = "CARD"
    ACH = "ACH"
    SIMULATED = "SIMULATED"
    OTHER = "OTHER"


# what staff record by hand (recordPayment); CARD, ACH and SIMULATED payments come from the gateways
MANUAL_PAYMENT_MODES = (PaymentMode.CASH, PaymentMode.CHECK, PaymentMode.BANK_TRANSFER, PaymentMode.OTHER)


class PaymentStatus(StrEnum):
    PENDING = "PENDING"  # an ACH debit until it clears
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    REFUNDED = "REFUNDED"


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
    # RCT-000001…: per organization, gap-free, given when an online payment succeeds (services.payments.outcomes)
    receipt_number: str | None = Field(default=None, sa_column=Column(String(20)))
    created_at: datetime = created_at()

    __table_args__ = (
        CheckConstraint(one_of("mode", PaymentMode), name="payment_mode"),
        CheckConstraint(one_of("status", PaymentStatus), name="payment_status"),
        CheckConstraint("amount > 0", name="payment_amount_positive"),
        Index("ix_payment_org_date", "organization_id", "payment_date", "id"),
        Index("ix_payment_contact_date", "contact_id", "payment_date", "id"),
        Index("uq_payment_gateway_reference", "gateway", "gateway_reference", unique=True),
        Index(
            "uq_payment_receipt_number",
            "organization_id",
            "receipt_number",
            unique=True,
            postgresql_where=text("receipt_number IS NOT NULL"),
        ),
    )


def _invoice_parts(table: str, whole: str) -> tuple[Any, ...]:
    """The constraints of a table that splits an amount over invoices (``whole``: the column of what is split): a
    positive amount, one row per whole and invoice, and the rows of an invoice found by its id."""
    return (
        CheckConstraint("amount > 0", name=f"{table}_amount_positive"),
        UniqueConstraint(whole, "invoice_id", name=f"uq_{table}"),
        Index(f"ix_{table}_invoice", "invoice_id"),
    )


class PaymentAllocation(SQLModel, table=True):
    """The part of one payment applied to one invoice."""

    __tablename__ = "payment_allocation"

    id: int | None = pk()
    organization_id: int = tenant()
    payment_id: int = fk("payment.id")
    invoice_id: int = fk("invoice.id")
    amount: Decimal = money()

    __table_args__ = _invoice_parts("payment_allocation", "payment_id")


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


ATTEMPT_STATUSES = ("CREATED", "REQUIRES_ACTION", "PROCESSING", "SUCCEEDED", "FAILED")


ATTEMPT_METHODS = ("CARD", "ACH", "SIMULATED")


class PaymentAttempt(SQLModel, table=True):
    """One ``payInvoices`` request by a portal user, keyed by the client's idempotency key.

    CREATED: recorded, the gateway not (yet) known to have answered; REQUIRES_ACTION: waiting for the payer
    (3-D Secure); PROCESSING: the gateway accepted it and settles later (ACH); SUCCEEDED and FAILED are final.
    An attempt in one of the first three holds its invoices: no other attempt may pay them meanwhile.
    """

    __tablename__ = "payment_attempt"

    id: int | None = pk()
    organization_id: int = tenant()
    contact_id: int = fk("contact.id")
    contact_person_id: int = fk("contact_person.id")
    idempotency_key: str = Field(sa_column=Column(String(255), nullable=False))
    request_hash: str = Field(sa_column=Column(String(64), nullable=False))
    gateway_key: str = Field(sa_column=Column(String(100), nullable=False))  # stem of the Stripe Idempotency-Keys
    method_type: str = Field(sa_column=Column(String(10), nullable=False))
    status: str = Field(default="CREATED", sa_column=Column(String(16), nullable=False))
    currency: str = Field(sa_column=Column(String(3), nullable=False))
    amount: Decimal = money()
    amount_refunded: Decimal = money(default=Decimal(0))
    save_payment_method: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, server_default="false"))
    saved_payment_method_id: int | None = fk("saved_payment_method.id", nullable=True, ondelete="SET NULL")
    stripe_payment_method_id: str | None = Field(default=None, sa_column=Column(String(255)))
    method_details: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSONB, nullable=False, server_default="{}")
    )
    stripe_customer_id: str | None = Field(default=None, sa_column=Column(String(255)))
    stripe_payment_intent_id: str | None = Field(default=None, sa_column=Column(String(255), unique=True))
    payment_id: int | None = fk("payment.id", nullable=True, ondelete="SET NULL")
    failure_code: str | None = Field(default=None, sa_column=Column(String(40)))
    failure_message: str | None = Field(default=None, sa_column=Column(Text))
    ip_address: str | None = Field(default=None, sa_column=Column(String(45)))
    user_agent: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime = created_at()
    updated_at: datetime | None = timestamp()

    __table_args__ = (
        CheckConstraint(f"status IN {ATTEMPT_STATUSES!r}", name="payment_attempt_status"),
        CheckConstraint(f"method_type IN {ATTEMPT_METHODS!r}", name="payment_attempt_method"),
        CheckConstraint("amount > 0", name="payment_attempt_amount_positive"),
        UniqueConstraint(
            "organization_id", "contact_person_id", "idempotency_key", name="uq_payment_attempt_idempotency_key"
        ),
        Index("ix_payment_attempt_contact", "contact_id", "id"),
    )


class PaymentAttemptInvoice(SQLModel, table=True):
    """The part of an attempt meant for one invoice (the planned allocation)."""

    __tablename__ = "payment_attempt_invoice"

    id: int | None = pk()
    organization_id: int = tenant()
    contact_id: int = fk("contact.id")
    attempt_id: int = fk("payment_attempt.id")
    invoice_id: int = fk("invoice.id")
    amount: Decimal = money()

    __table_args__ = _invoice_parts("payment_attempt_invoice", "attempt_id")


class StripeEvent(SQLModel, table=True):
    """A Stripe webhook event applied once: its id is the primary key, recorded with its effects."""

    __tablename__ = "stripe_event"

    id: str = Field(sa_column=Column(String(255), primary_key=True))
    type: str = Field(sa_column=Column(String(100), nullable=False))
    payment_intent_id: str | None = Field(default=None, sa_column=Column(String(255), index=True))
    outcome: str = Field(sa_column=Column(String(40), nullable=False))
    received_at: datetime = created_at()
