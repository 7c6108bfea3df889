"""The organization and its portal settings."""

from __future__ import annotations

from typing import Any

import strawberry

from schema.base import Address, Node, from_columns, staff_only
from schema.payments.enums import PaymentGateway


@strawberry.type(description="The business that runs the portal.")
class Organization(Node):
    name: str
    portal_slug: str = strawberry.field(description="Identifies the organization's portal at login.")
    base_currency: str
    email: str | None
    address: Address
    payment_instructions: str | None = strawberry.field(
        description="How to pay other than online (bank details, checks), as the business wrote it; plain text."
    )

    @staticmethod
    def from_row(row: Any) -> Organization:
        return from_columns(Organization, row, address=Address.from_json(row.address))


@strawberry.type(description="How the organization's customer portal behaves.")
class PortalSettings:
    portal_enabled: bool
    show_projects_and_timesheets: bool = strawberry.field(
        description="Allow customers to view projects and timesheets in the portal."
    )
    allow_reviews: bool
    payment_gateways: list[PaymentGateway] = strawberry.field(description="Gateways configured for online payment.")
    payment_instructions: str | None = strawberry.field(
        description="How to pay other than online: shown on every invoice (`Invoice.paymentInstructions`)."
    )
    notification_emails: list[str] = staff_only(
        description="Who hears about client actions by email; empty means the owner.", empty=list
    )

    @staticmethod
    def from_row(row: Any) -> PortalSettings:
        return PortalSettings(
            portal_enabled=row.portal_enabled,
            show_projects_and_timesheets=row.portal_show_projects,
            allow_reviews=row.portal_allow_reviews,
            payment_gateways=[PaymentGateway(g) for g in row.payment_gateways],
            payment_instructions=row.payment_instructions,
            notification_emails=list(row.notification_emails),
        )
