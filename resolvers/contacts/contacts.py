"""createContact and updateContact (staff)."""

from __future__ import annotations

from typing import Any

import strawberry
from sqlalchemy import exists, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from core import validation
from core.context import Context
from core.errors import DomainError
from core.scope import T_CONTACT, T_ESTIMATE, T_INVOICE, T_ORGANIZATION, T_PAYMENT
from resolvers.common import create_once, record_action, returns_errors
from resolvers.contacts.values import MAX_NOTES, company_names_and_phone
from resolvers.edits import editing, staff_target, write_changes
from schema.contacts.mutations import (
    CreateContactError,
    CreateContactInput,
    CreateContactResult,
    UpdateContactError,
    UpdateContactInput,
    UpdateContactResult,
)


def _contact_values(input: CreateContactInput | UpdateContactInput) -> dict[str, Any]:
    values = company_names_and_phone(input)
    if input.notes is not None:
        values["notes"] = validation.text(input.notes, "notes", max_length=MAX_NOTES)
    if input.email is not None:
        values["email"] = validation.email(input.email, code="INVALID_INPUT")
    if input.currency is not None:
        values["currency"] = validation.currency(input.currency)
    if input.billing_address is not None:
        values["billing_address"] = input.billing_address.to_json()
    if input.shipping_address is not None:
        values["shipping_address"] = input.shipping_address.to_json()
    return values


@returns_errors(CreateContactError)
async def create_contact(info: strawberry.Info, input: CreateContactInput) -> CreateContactResult:
    """Staff: add a customer."""
    ctx: Context = info.context
    viewer = ctx.require_staff()
    values = _contact_values(input)

    async def create(session: AsyncSession) -> int:
        if "currency" not in values:
            values["currency"] = await session.scalar(
                select(T_ORGANIZATION.c.base_currency).where(T_ORGANIZATION.c.id == viewer.organization_id)
            )
        contact_pk = await session.scalar(
            insert(T_CONTACT).values(organization_id=viewer.organization_id, **values).returning(T_CONTACT.c.id)
        )
        await record_action(ctx, session, kind="contact_created", description="Contact created", contact_id=contact_pk)
        return int(contact_pk)

    contact_pk = await create_once(ctx, operation="createContact", input=input, result_type="Contact", create=create)
    return await ctx.loaders.contact.load(contact_pk)


async def _has_documents(session: AsyncSession, contact_pk: int) -> bool:
    """Whether invoices, estimates or payments of the contact exist (they are in its currency)."""
    return bool(
        await session.scalar(
            select(
                exists().where(T_INVOICE.c.contact_id == contact_pk)
                | exists().where(T_ESTIMATE.c.contact_id == contact_pk)
                | exists().where(T_PAYMENT.c.contact_id == contact_pk)
            )
        )
    )


@returns_errors(UpdateContactError)
async def update_contact(info: strawberry.Info, input: UpdateContactInput) -> UpdateContactResult:
    """Staff: change a customer's details. The currency is fixed once documents or payments exist."""
    ctx, contact_pk = staff_target(info, input.id, "Contact")
    values = _contact_values(input)
    locked = ctx.scope.where_id(T_CONTACT, contact_pk).with_for_update()
    async with editing(ctx, locked, "No contact with this id.") as (session, current):
        if values.get("currency", current.currency) != current.currency and await _has_documents(session, contact_pk):
            raise DomainError("CURRENCY_IN_USE", "The contact already has documents in its currency.", "currency")
        await write_changes(
            ctx,
            session,
            T_CONTACT,
            contact_pk,
            values,
            kind="contact_updated",
            description="Contact details updated",
            contact_id=contact_pk,
        )
    return await ctx.loaders.contact.load(contact_pk)


@strawberry.type
class Mutation:
    create_contact: CreateContactResult = strawberry.field(resolver=create_contact)
    update_contact: UpdateContactResult = strawberry.field(resolver=update_contact)
