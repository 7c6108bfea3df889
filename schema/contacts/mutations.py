"""Inputs, errors and results of the contact mutations, staff's and the portal's own (my account, my company)."""

from __future__ import annotations

import strawberry

from schema.base import AddressInput, error_codes, mutation_types
from schema.contacts.types import Contact, ContactPerson
from services.receipts import KEY_DESCRIPTION


@strawberry.input(description="Only the fields given change.")
class UpdateMyAccountInput:
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None
    mobile: str | None = None


UpdateMyAccountError, UpdateMyAccountResult = mutation_types("UpdateMyAccount", ContactPerson, "INVALID_INPUT")


@strawberry.input(description="Only the fields given change.")
class UpdateMyCompanyInput:
    company_name: str | None = None
    display_name: str | None = None
    phone: str | None = None
    billing_address: AddressInput | None = None
    shipping_address: AddressInput | None = None


UpdateMyCompanyError, UpdateMyCompanyResult = mutation_types("UpdateMyCompany", Contact, "INVALID_INPUT")


@strawberry.input
class CreateContactInput:
    display_name: str
    company_name: str | None = None
    email: str | None = None
    phone: str | None = None
    currency: str | None = strawberry.field(default=None, description="ISO 4217; defaults to the base currency.")
    billing_address: AddressInput | None = None
    shipping_address: AddressInput | None = None
    notes: str | None = None
    idempotency_key: str | None = strawberry.field(default=None, description=KEY_DESCRIPTION)


@strawberry.input
class UpdateContactInput:
    id: strawberry.ID
    display_name: str | None = None
    company_name: str | None = None
    email: str | None = None
    phone: str | None = None
    currency: str | None = None
    billing_address: AddressInput | None = None
    shipping_address: AddressInput | None = None
    notes: str | None = None


@strawberry.input
class CreateContactPersonInput:
    contact_id: strawberry.ID
    first_name: str
    last_name: str | None = None
    email: str | None = None
    phone: str | None = None
    mobile: str | None = None
    is_primary: bool = False
    idempotency_key: str | None = strawberry.field(default=None, description=KEY_DESCRIPTION)


@strawberry.input
class UpdateContactPersonInput:
    id: strawberry.ID
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    phone: str | None = None
    mobile: str | None = None
    is_primary: bool | None = None


ContactErrorCode = error_codes(
    "ContactErrorCode", "NOT_FOUND INVALID_INPUT INVALID_CURRENCY CURRENCY_IN_USE IDEMPOTENCY_KEY_REUSED"
)


ContactPersonErrorCode = error_codes(
    "ContactPersonErrorCode", "NOT_FOUND INVALID_INPUT INVALID_EMAIL EMAIL_TAKEN IDEMPOTENCY_KEY_REUSED"
)


CreateContactError, CreateContactResult = mutation_types("CreateContact", Contact, shared=ContactErrorCode)


UpdateContactError, UpdateContactResult = mutation_types("UpdateContact", Contact, shared=ContactErrorCode)


CreateContactPersonError, CreateContactPersonResult = mutation_types(
    "CreateContactPerson", ContactPerson, shared=ContactPersonErrorCode
)


UpdateContactPersonError, UpdateContactPersonResult = mutation_types(
    "UpdateContactPerson", ContactPerson, shared=ContactPersonErrorCode
)
