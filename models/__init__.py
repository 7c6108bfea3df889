"""SQLModel tables. Importing this package registers every table on ``SQLModel.metadata``."""

from models.auth import AuthSession, AuthThrottle, MutationReceipt, OneTimeToken, RateLimitBucket, RecoveryCode
from models.contact import Contact, ContactPerson
from models.conversation import Activity, Comment, Review
from models.document import Estimate, Invoice, LineItem
from models.gateway import PaymentAttempt, PaymentAttemptInvoice, StripeEvent
from models.mail import OutboxMail
from models.organization import DocumentCounter, Organization, StaffUser
from models.payment import Payment, PaymentAllocation, SavedPaymentMethod
from models.persisted import PersistedQuery
from models.project import Project, Task, TimeEntry

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
