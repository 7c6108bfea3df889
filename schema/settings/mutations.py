"""Portal settings mutation types."""

from __future__ import annotations

import strawberry

from schema.base import mutation_types
from schema.payments.enums import PaymentGateway
from schema.settings.types import PortalSettings

MAX_PAYMENT_INSTRUCTIONS = 2000


@strawberry.input(description="Only the fields given change.")
class PortalSettingsInput:
    portal_enabled: bool | None = None
    show_projects_and_timesheets: bool | None = None
    allow_reviews: bool | None = None
    payment_gateways: list[PaymentGateway] | None = None
    notification_emails: list[str] | None = None
    payment_instructions: str | None = strawberry.field(
        default=None,
        description=f"How to pay other than online (bank details, checks): plain text, at most "
        f"{MAX_PAYMENT_INSTRUCTIONS} characters; an empty string clears it.",
    )


UpdatePortalSettingsError, UpdatePortalSettingsResult = mutation_types(
    "UpdatePortalSettings", PortalSettings, "INVALID_EMAIL INVALID_INPUT FORBIDDEN"
)
