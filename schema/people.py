"""Organizations, staff users, contacts and contact persons."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Annotated, Any

import strawberry

from core.ids import to_global_id
from schema.base import Address, Node, staff_only
from schema.enums import PaymentGateway, PortalStatus, StaffRole


def gravatar_url(email: str | None) -> str:
    digest = hashlib.md5((email or "").strip().lower().encode(), usedforsecurity=False).hexdigest()
    return f"https://www.gravatar.com/avatar/{digest}?d=identicon"


@strawberry.type(description="The business that runs the portal.")
class Organization:
    id: strawberry.ID
    name: str
    portal_slug: str = strawberry.field(description="Identifies the organization's portal at login.")
    base_currency: str
    email: str | None
    address: Address

    @staticmethod
    def from_row(row: Any) -> Organization:
        return Organization(
            id=strawberry.ID(str(row.id)),
            name=row.name,
            portal_slug=row.portal_slug,
            base_currency=row.base_currency,
            email=row.email,
            address=Address.from_json(row.address),
        )


@strawberry.type(description="How the organization's customer portal behaves.")
class PortalSettings:
    portal_enabled: bool
    show_projects_and_timesheets: bool = strawberry.field(
        description="Allow customers to view projects and timesheets in the portal."
    )
    allow_reviews: bool
    payment_gateways: list[PaymentGateway] = strawberry.field(description="Gateways configured for online payment.")
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
            notification_emails=list(row.notification_emails),
        )


@strawberry.type(description="A member of the organization's staff.")
class StaffUser(Node):
    email: str
    name: str
    role: StaffRole
    created_at: dt.datetime
    organization_id: strawberry.Private[int]

    @staticmethod
    def from_row(row: Any) -> StaffUser:
        return StaffUser(
            id=strawberry.ID(to_global_id("StaffUser", row.id)),
            email=row.email,
            name=row.name,
            role=StaffRole(row.role),
            created_at=row.created_at,
            organization_id=row.organization_id,
        )

    @strawberry.field
    async def organization(self, info: strawberry.Info) -> Organization:
        return await info.context.loaders.organization.load(self.organization_id)


@strawberry.type(description="A person at a contact. Portal users are contact persons.")
class ContactPerson(Node):
    first_name: str
    last_name: str | None
    email: str | None
    phone: str | None
    mobile: str | None
    is_primary: bool
    portal_status: PortalStatus
    created_at: dt.datetime
    contact_id: strawberry.Private[int]

    @strawberry.field(description="First and last name.")
    def name(self) -> str:
        return " ".join(part for part in (self.first_name, self.last_name) if part)

    @strawberry.field(description="Gravatar of the trimmed, lower-cased email, with an identicon fallback.")
    def avatar_url(self) -> str:
        return gravatar_url(self.email)

    @strawberry.field
    async def contact(self, info: strawberry.Info) -> Annotated[Contact, strawberry.lazy("schema.people")]:
        return await info.context.loaders.contact.load(self.contact_id)

    @staticmethod
    def from_row(row: Any) -> ContactPerson:
        return ContactPerson(
            id=strawberry.ID(to_global_id("ContactPerson", row.id)),
            first_name=row.first_name,
            last_name=row.last_name,
            email=row.email,
            phone=row.phone,
            mobile=row.mobile,
            is_primary=row.is_primary,
            portal_status=PortalStatus(row.portal_status),
            created_at=row.created_at,
            contact_id=row.contact_id,
        )


@strawberry.type(description="The business's customer: a company or a person.")
class Contact(Node):
    display_name: str
    company_name: str | None
    email: str | None
    phone: str | None
    currency: str
    billing_address: Address
    shipping_address: Address
    notes: str | None = staff_only(description="Internal notes.")
    created_at: dt.datetime
    pk: strawberry.Private[int]

    @strawberry.field(description="The contact's people, primary first.")
    async def persons(self, info: strawberry.Info) -> list[ContactPerson]:
        return await info.context.loaders.persons_by_contact.load(self.pk)

    @staticmethod
    def from_row(row: Any, *, staff: bool = True) -> Contact:
        return Contact(
            id=strawberry.ID(to_global_id("Contact", row.id)),
            display_name=row.display_name,
            company_name=row.company_name,
            email=row.email,
            phone=row.phone,
            currency=row.currency,
            billing_address=Address.from_json(row.billing_address),
            shipping_address=Address.from_json(row.shipping_address),
            notes=row.notes if staff else None,  # internal notes never reach the portal
            created_at=row.created_at,
            pk=row.id,
        )


Viewer = Annotated[StaffUser | ContactPerson, strawberry.union("Viewer", description="Who is signed in.")]
