"""Portal settings mutation types."""

from __future__ import annotations

from typing import Annotated

import strawberry

from schema.base import mutation_error
from schema.payments.enums import PaymentGateway
from schema.settings.types import PortalSettings


@strawberry.input(description="Only the fields given change.")
class PortalSettingsInput:
    portal_enabled: bool | None = None
    show_projects_and_timesheets: bool | None = None
    allow_reviews: bool | None = None
    payment_gateways: list[PaymentGateway] | None = None
    notification_emails: list[str] | None = None


UpdatePortalSettingsError = mutation_error("UpdatePortalSettings", "INVALID_EMAIL FORBIDDEN")


UpdatePortalSettingsResult = Annotated[
    PortalSettings | UpdatePortalSettingsError, strawberry.union("UpdatePortalSettingsResult")
]
