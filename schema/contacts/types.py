"""Contacts (the business's customers) and their people."""

from __future__ import annotations

import datetime as dt
from typing import Any

import strawberry

from core.ids import to_global_id
from models import contacts
from schema.base import Address, Node, gravatar_url, staff_only


async def _load_contact(root: Any, info: strawberry.Info) -> Contact:
    return await info.context.loaders.contact.load(root.contact_id)  # type: ignore[no-any-return]


def contact_field() -> Any:
    """The ``contact`` field of a type that keeps its contact's ``contact_id``: the contact, through the request's
    loader (one query for every contact a response names)."""
    return strawberry.field(resolver=_load_contact)


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

    contact: Contact = contact_field()

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


PortalStatus = strawberry.enum(contacts.PortalStatus, description="Portal access of a contact person.")


@strawberry.input
class ContactFilter:
    search: str | None = strawberry.field(default=None, description="Part of the display or company name, or email.")
