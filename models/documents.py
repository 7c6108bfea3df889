"""What estimates and invoices share: line items, numbering counters, the append-only activity history."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import INET, JSONB
from sqlmodel import Field, SQLModel

from models.base import PERCENT, QUANTITY, created_at, fk, money, pk, tenant


class DocumentCounter(SQLModel, table=True):
    """Next sequential number per organization and document kind (row-locked on use)."""

    __tablename__ = "document_counter"

    organization_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("organization.id", ondelete="CASCADE"), primary_key=True)
    )
    kind: str = Field(sa_column=Column(String(20), primary_key=True))
    next_value: int = Field(default=1, sa_column=Column(BigInteger, nullable=False, server_default=text("1")))


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


class Activity(SQLModel, table=True):
    """Append-only history of a document, a project or a contact (when no document is named)."""

    id: int | None = pk()
    organization_id: int = tenant()
    contact_id: int | None = fk("contact.id", nullable=True)
    estimate_id: int | None = fk("estimate.id", nullable=True)
    invoice_id: int | None = fk("invoice.id", nullable=True)
    project_id: int | None = fk("project.id", nullable=True)
    kind: str = Field(sa_column=Column(String(40), nullable=False))
    actor_staff_id: int | None = fk("staff_user.id", nullable=True, ondelete="SET NULL")
    actor_contact_person_id: int | None = fk("contact_person.id", nullable=True, ondelete="SET NULL")
    client_visible: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, server_default="false"))
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False, server_default="{}"))
    ip_address: str | None = Field(default=None, sa_column=Column(INET))
    created_at: datetime = created_at()

    __table_args__ = (
        Index("ix_activity_estimate", "estimate_id", "id"),
        Index("ix_activity_invoice", "invoice_id", "id"),
        Index("ix_activity_project", "project_id", "id"),
        Index("ix_activity_contact", "contact_id", "id"),
    )
