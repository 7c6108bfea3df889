"""Portal settings mutation types."""

from __future__ import annotations

import strawberry

from schema.base import mutation_types
from schema.payments.enums import PaymentGateway
from schema.settings.types import PortalSettings


@strawberry.input(description="Only the fields given change.")
class PortalSettingsInput:
    portal_enabled: bool | None = None
    show_projects_and_timesheets: bool | None = None
    allow_reviews: bool | None = None
    payment_gateways: list[PaymentGateway] | None = None
    notification_emails: list[str] | None = None


UpdatePortalSettingsError, UpdatePortalSettingsResult = mutation_types(
    "UpdatePortalSettings", PortalSettings, "INVALID_EMAIL FORBIDDEN"
)
