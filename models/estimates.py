"""Estimates, and their status vocabulary: every status, how each reads and the moves between them.

This module is the one source of the statuses: the check constraint below, the GraphQL enums (``EstimateStatus``
and the event payload's ``DocumentStatus``), the PDF stamps and the demo data derive from ``EstimateStatus``.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import CheckConstraint, Column, Date, Index, String, Text, text
from sqlalchemy.dialects.postgresql import INET
from sqlmodel import Field, SQLModel

from models.base import created_at, fk, money, pk, tenant, timestamp
from models.documents import Move, Tone, document_keys, one_of


class EstimateStatus(StrEnum):
    DRAFT = "DRAFT"
    SENT = "SENT"
    ACCEPTED = "ACCEPTED"
    DECLINED = "DECLINED"
    EXPIRED = "EXPIRED"  # derived: a SENT estimate past its expiry date (services.documents.statuses)
    INVOICED = "INVOICED"


ESTIMATE_DERIVED = frozenset({EstimateStatus.EXPIRED})


ESTIMATE_STATUSES = tuple(status for status in EstimateStatus if status not in ESTIMATE_DERIVED)  # stored ones


# how each status reads (None: plainly in play, no stamp on the PDF)
ESTIMATE_TONES: dict[EstimateStatus, Tone | None] = {
    EstimateStatus.DRAFT: Tone.INACTIVE,
    EstimateStatus.SENT: None,
    EstimateStatus.ACCEPTED: Tone.SETTLED,
    EstimateStatus.DECLINED: Tone.PROBLEM,
    EstimateStatus.EXPIRED: Tone.INACTIVE,
    EstimateStatus.INVOICED: Tone.ONWARD,
}


# the column holding the client's own words for a status, printed on the PDF ("Declined: …")
ESTIMATE_REASONS: dict[EstimateStatus, str] = {EstimateStatus.DECLINED: "decline_reason"}


# what the dashboard counts as waiting for the client's answer (effective statuses: an expired one waits no more)
AWAITING_APPROVAL = (EstimateStatus.SENT,)


# the dashboard's estimate figures: each counts the estimates in these (effective) statuses, and its `…Filter`
# lists them
DASHBOARD_FIGURES: dict[str, tuple[EstimateStatus, ...]] = {"estimates_awaiting_approval": AWAITING_APPROVAL}


def _answer(activity: str, to: EstimateStatus, at: str) -> Move:
    """The client's answer to a SENT estimate: it shows in the portal's history and staff hear of it."""
    return Move(activity, (EstimateStatus.SENT,), to=to, at=at, client_visible=True, notify=activity)


class EstimateMoves:
    """Every way an estimate's status changes."""

    SEND = Move("sent", (EstimateStatus.DRAFT,), to=EstimateStatus.SENT, at="sent_at", client_visible=True, unseen=True)
    SEND_AGAIN = Move("sent", (EstimateStatus.SENT,), client_visible=True, unseen=True)
    ACCEPT = _answer("accepted", EstimateStatus.ACCEPTED, at="accepted_at")
    DECLINE = _answer("declined", EstimateStatus.DECLINED, at="declined_at")
    # staff's edit of a declined estimate: a draft again (the decline stays in the history); staff's own edit is
    # not announced (documentStatusChanged covers send, accept, decline, pay and void)
    REVISE = Move("revised", (EstimateStatus.DECLINED,), to=EstimateStatus.DRAFT, announce=False)
    # ACCEPTED and INVOICED are commitments the client made; they are never edited
    UPDATE = Move("updated", (EstimateStatus.DRAFT, EstimateStatus.SENT))


class Estimate(SQLModel, table=True):
    id: int | None = pk()
    organization_id: int = tenant()
    contact_id: int = fk("contact.id")
    number: str = Field(sa_column=Column(String(32), nullable=False))
    reference: str | None = Field(default=None, sa_column=Column(String(100)))
    status: str = Field(default=EstimateStatus.DRAFT, sa_column=Column(String(12), nullable=False))
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
        CheckConstraint(one_of("status", ESTIMATE_STATUSES), name="estimate_status"),
        *document_keys("estimate"),
        # the portal dashboard counts a contact's estimates awaiting approval
        Index(
            "ix_estimate_contact_sent",
            "contact_id",
            "expiry_date",
            postgresql_where=text(f"status = '{EstimateStatus.SENT}'"),
        ),
    )
