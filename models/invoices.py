"""Invoices, and their status vocabulary: every status and kind, how each status reads, the moves between them.

This module is the one source of the statuses and kinds: the check constraints below, the GraphQL enums
(``InvoiceStatus``, ``InvoiceKind`` and the event payload's ``DocumentStatus``), the PDF stamps and the demo data
derive from ``InvoiceStatus`` and ``InvoiceKind``.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import ARRAY, CheckConstraint, Column, Date, Index, String, Text, text
from sqlmodel import Field, SQLModel

from models.base import created_at, fk, money, pk, tenant, timestamp
from models.documents import Move, Tone, document_keys, one_of


class InvoiceStatus(StrEnum):
    DRAFT = "DRAFT"
    SENT = "SENT"
    PARTIALLY_PAID = "PARTIALLY_PAID"
    PAID = "PAID"
    OVERDUE = "OVERDUE"  # derived: SENT or PARTIALLY_PAID past the due date (services.documents.statuses)
    VOID = "VOID"


class InvoiceKind(StrEnum):
    REGULAR = "REGULAR"
    RETAINER = "RETAINER"


INVOICE_DERIVED = frozenset({InvoiceStatus.OVERDUE})


INVOICE_STATUSES = tuple(status for status in InvoiceStatus if status not in INVOICE_DERIVED)  # stored ones


# stored statuses of an invoice with money still to come: it can be paid, it counts as outstanding, and past its
# due date it reads OVERDUE
OUTSTANDING = (InvoiceStatus.SENT, InvoiceStatus.PARTIALLY_PAID)


# the same, as the client sees them (the values of the dashboard's `invoices(filter:)`)
OUTSTANDING_SHOWN = (*OUTSTANDING, InvoiceStatus.OVERDUE)


# how each status reads (None: plainly in play, no stamp on the PDF)
INVOICE_TONES: dict[InvoiceStatus, Tone | None] = {
    InvoiceStatus.DRAFT: Tone.INACTIVE,
    InvoiceStatus.SENT: None,
    InvoiceStatus.PARTIALLY_PAID: Tone.PENDING,
    InvoiceStatus.PAID: Tone.SETTLED,
    InvoiceStatus.OVERDUE: Tone.PROBLEM,
    InvoiceStatus.VOID: Tone.PROBLEM,
}


class InvoiceMoves:
    """Every way an invoice's status changes."""

    SEND = Move("sent", (InvoiceStatus.DRAFT,), to=InvoiceStatus.SENT, at="sent_at", client_visible=True, unseen=True)
    SEND_AGAIN = Move("sent", OUTSTANDING, client_visible=True, unseen=True)
    UPDATE = Move("updated", (InvoiceStatus.DRAFT, InvoiceStatus.SENT))  # and nothing paid yet
    VOID = Move(
        "voided", tuple(s for s in INVOICE_STATUSES if s != InvoiceStatus.VOID), to=InvoiceStatus.VOID, at="voided_at"
    )
    PAY_IN_FULL = Move("paid", OUTSTANDING, to=InvoiceStatus.PAID, client_visible=True, notify="paid")
    PAY_IN_PART = Move("paid", OUTSTANDING, to=InvoiceStatus.PARTIALLY_PAID, client_visible=True, notify="paid")


class Invoice(SQLModel, table=True):
    id: int | None = pk()
    organization_id: int = tenant()
    contact_id: int = fk("contact.id")
    number: str = Field(sa_column=Column(String(32), nullable=False))
    reference: str | None = Field(default=None, sa_column=Column(String(100)))
    kind: str = Field(
        default=InvoiceKind.REGULAR,
        sa_column=Column(String(10), nullable=False, server_default=InvoiceKind.REGULAR.value),
    )
    status: str = Field(default=InvoiceStatus.DRAFT, sa_column=Column(String(16), nullable=False))
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
        CheckConstraint(one_of("status", INVOICE_STATUSES), name="invoice_status"),
        CheckConstraint(one_of("kind", InvoiceKind), name="invoice_kind"),
        CheckConstraint("balance_due >= 0", name="invoice_balance_not_negative"),
        *document_keys("invoice"),
        # the dashboard's outstanding totals
        Index(
            "ix_invoice_contact_outstanding",
            "contact_id",
            "kind",
            postgresql_where=text(one_of("status", OUTSTANDING)),
        ),
    )
