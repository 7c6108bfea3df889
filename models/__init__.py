"""SQLModel tables. Importing this package registers every table on ``SQLModel.metadata``."""

from models.access import AuthSession, AuthThrottle, OneTimeToken, RecoveryCode, StaffUser
from models.contacts import Contact, ContactPerson
from models.conversations import Comment, Review
from models.documents import Activity, DocumentCounter, LineItem
from models.estimates import Estimate
from models.invoices import Invoice
from models.payments import (
    Payment,
    PaymentAllocation,
    PaymentAttempt,
    PaymentAttemptInvoice,
    SavedPaymentMethod,
    StripeEvent,
)
from models.platform import MutationReceipt, OutboxMail, PersistedQuery, RateLimitBucket
from models.projects import Project, Task, TimeEntry
from models.settings import Organization

__all__ = [
    "Activity",
    "AuthSession",
    "AuthThrottle",
    "OneTimeToken",
    "OutboxMail",
    "Comment",
    "Contact",
    "ContactPerson",
    "DocumentCounter",
    "Estimate",
    "Invoice",
    "MutationReceipt",
    "LineItem",
    "Organization",
    "Payment",
    "PaymentAllocation",
    "PaymentAttempt",
    "PaymentAttemptInvoice",
    "PersistedQuery",
    "Project",
    "RateLimitBucket",
    "RecoveryCode",
    "Review",
    "SavedPaymentMethod",
    "StaffUser",
    "StripeEvent",
    "Task",
    "TimeEntry",
]
