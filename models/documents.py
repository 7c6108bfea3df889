"""What estimates and invoices share: line items, numbering counters, the append-only activity history, and the
words their status vocabularies are written in (``Tone``, ``Move``, ``one_of``)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
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
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import INET, JSONB
from sqlmodel import Field, SQLModel

from models.base import PERCENT, QUANTITY, created_at, fk, money, pk, tenant


def one_of(column: str, values: Iterable[str]) -> str:
    """SQL text ``column IN ('A', 'B')`` for a check constraint or a partial index (the values are identifiers)."""
    return f"{column} IN ({', '.join(repr(str(value)) for value in values)})"


def document_keys(table: str) -> tuple[Any, ...]:
    """What an estimate or invoice table is keyed and listed by: its number, unique in the organization, and the
    newest-first lists by issue date (the organization's, a contact's)."""
    return (
        UniqueConstraint("organization_id", "number", name=f"uq_{table}_org_number"),
        Index(f"ix_{table}_org_date", "organization_id", "issue_date", "id"),
        Index(f"ix_{table}_contact_date", "contact_id", "issue_date", "id"),
    )


class Tone(StrEnum):
    """How a status reads at a glance; a PDF's status stamp takes its colour from it."""

    SETTLED = "SETTLED"  # done, and well: paid, accepted
    ONWARD = "ONWARD"  # done, carried on elsewhere: invoiced
    PENDING = "PENDING"  # on its way: partially paid
    PROBLEM = "PROBLEM"  # needs someone: overdue, declined, void
    INACTIVE = "INACTIVE"  # not in play: draft, expired


@dataclass(frozen=True, slots=True)
class Move:
    """One way a document's status changes (``services.documents.transitions`` carries it out).

    ``start`` lists the stored statuses it may start from; ``to`` is where it leads (None: the status stays).
    """

    activity: str  # the kind of its history entry
    start: tuple[str, ...]
    to: str | None = None
    at: str | None = None  # the column that records when it happened
    client_visible: bool = False  # its history entry shows in the portal
    notify: str | None = None  # done by a client (or the system), staff are mailed "<who> <notify> <document>"
    unseen: bool = False  # the document goes to the client (again): viewed starts over, the history keeps old views
    announce: bool = True  # a status change publishes DocumentStatusChanged


def moves_of(namespace: type) -> tuple[Move, ...]:
    """The moves a class lists as attributes (``EstimateMoves``, ``InvoiceMoves``)."""
    return tuple(value for value in vars(namespace).values() if isinstance(value, Move))


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


# Every kind of history entry (``record_activity`` warns on any other: the test suite turns that into a failure);
# the API shows them as the ActivityKind enum, upper-cased.
ACTIVITY_KINDS = (
    # documents
    "created", "sent", "viewed", "viewed_again", "accepted", "declined", "revised", "updated", "voided", "paid",
    "payment_pending", "payment_failed", "payment_unapplied", "refunded", "refund_partial",
    "commented", "comment_visibility_changed", "forwarded",
    # projects
    "project_created", "project_updated", "task_created", "task_updated", "time_logged", "time_entry_updated",
    # contacts and portal access
    "contact_created", "contact_updated", "contact_person_added", "contact_person_updated", "portal_invited",
    "portal_invitation_resent", "portal_invitation_accepted", "portal_access_disabled", "portal_settings_updated",
    "password_changed", "password_reset", "two_factor_enabled", "two_factor_disabled", "my_account_updated",
    "my_company_updated", "review_submitted", "payment_method_removed",
)  # fmt: skip


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
    # the actor's name when the entry was written: the history says who it was then, whatever they are called now
    actor_name: str | None = Field(default=None, sa_column=Column(Text))
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
