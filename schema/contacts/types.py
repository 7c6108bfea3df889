"""Contacts (the business's customers) and their people."""

from __future__ import annotations

import datetime as dt
from typing import Any

import strawberry

from models import contacts
from schema.base import Address, Node, from_columns, gravatar_url, staff_only


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
        return from_columns(ContactPerson, row)


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
        return from_columns(
            Contact,
            row,
            billing_address=Address.from_json(row.billing_address),
            shipping_address=Address.from_json(row.shipping_address),
            notes=row.notes if staff else None,  # internal notes never reach the portal
        )


PortalStatus = strawberry.enum(contacts.PortalStatus, description="Portal access of a contact person.")


@strawberry.input
class ContactFilter:
    search: str | None = strawberry.field(default=None, description="Part of the display or company name, or email.")
