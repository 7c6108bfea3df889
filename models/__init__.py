"""SQLModel tables. Importing this package registers every table on ``SQLModel.metadata``."""

from models.auth import AuthSession
from models.contact import Contact, ContactPerson
from models.conversation import Activity, Comment, Review
from models.document import Estimate, Invoice, LineItem
from models.organization import DocumentCounter, Organization, StaffUser
from models.payment import Payment, PaymentAllocation, SavedPaymentMethod
from models.project import Project, Task, TimeEntry

__all__ = [
    "Activity",
    "AuthSession",
    "Comment",
    "Contact",
    "ContactPerson",
    "DocumentCounter",
    "Estimate",
    "Invoice",
    "LineItem",
    "Organization",
    "Payment",
    "PaymentAllocation",
    "Project",
    "Review",
    "SavedPaymentMethod",
    "StaffUser",
    "Task",
    "TimeEntry",
]
