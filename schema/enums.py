"""Enums shared across the schema."""

from __future__ import annotations

from enum import Enum

import strawberry


@strawberry.enum(description="Lifecycle of an estimate. EXPIRED is derived: a SENT estimate past its expiry date.")
class EstimateStatus(Enum):
    DRAFT = "DRAFT"
    SENT = "SENT"
    ACCEPTED = "ACCEPTED"
    DECLINED = "DECLINED"
    EXPIRED = "EXPIRED"
    INVOICED = "INVOICED"


@strawberry.enum(
    description="Lifecycle of an invoice. OVERDUE is derived: SENT or PARTIALLY_PAID with a due date in the past."
)
class InvoiceStatus(Enum):
    DRAFT = "DRAFT"
    SENT = "SENT"
    PARTIALLY_PAID = "PARTIALLY_PAID"
    PAID = "PAID"
    OVERDUE = "OVERDUE"
    VOID = "VOID"


@strawberry.enum(description="A regular invoice, or a retainer (an advance payment request).")
class InvoiceKind(Enum):
    REGULAR = "REGULAR"
    RETAINER = "RETAINER"


@strawberry.enum(description="Online payment gateways a client may use for an invoice.")
class PaymentGateway(Enum):
    CARD = "CARD"
    ACH = "ACH"


@strawberry.enum(description="How a payment was made.")
class PaymentMode(Enum):
    CASH = "CASH"
    CHECK = "CHECK"
    BANK_TRANSFER = "BANK_TRANSFER"
    CARD = "CARD"
    ACH = "ACH"
    SIMULATED = "SIMULATED"
    OTHER = "OTHER"


@strawberry.enum(description="Payment state; an ACH payment is PENDING until it clears.")
class PaymentStatus(Enum):
    PENDING = "PENDING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    REFUNDED = "REFUNDED"


@strawberry.enum(description="Portal access of a contact person.")
class PortalStatus(Enum):
    NOT_INVITED = "NOT_INVITED"
    INVITED = "INVITED"
    ACTIVE = "ACTIVE"
    DISABLED = "DISABLED"


@strawberry.enum
class StaffRole(Enum):
    OWNER = "OWNER"
    ADMIN = "ADMIN"
    STAFF = "STAFF"


@strawberry.enum
class ProjectStatus(Enum):
    ACTIVE = "ACTIVE"
    COMPLETED = "COMPLETED"
    ARCHIVED = "ARCHIVED"


@strawberry.enum
class TimeEntryStatus(Enum):
    UNBILLED = "UNBILLED"
    BILLED = "BILLED"
