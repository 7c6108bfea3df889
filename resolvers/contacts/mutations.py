"""Contacts and contact persons: queries and staff mutations."""

from __future__ import annotations

from typing import Any

import strawberry
from sqlalchemy import exists, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core import validation
from core.context import Context
from core.errors import DomainError
from core.scope import T_CONTACT, T_CONTACT_PERSON, T_ESTIMATE, T_INVOICE, T_ORGANIZATION, T_PAYMENT
from resolvers.common import pk_of, returns_errors
from schema.contacts.mutations import (
    CreateContactError,
    CreateContactInput,
    CreateContactPersonError,
    CreateContactPersonInput,
    CreateContactPersonResult,
    CreateContactResult,
    UpdateContactError,
    UpdateContactInput,
    UpdateContactPersonError,
    UpdateContactPersonInput,
    UpdateContactPersonResult,
    UpdateContactResult,
)
from services import receipts
from services.documents.history import record_activity


def _contact_values(ctx: Context, input: CreateContactInput | UpdateContactInput) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if input.display_name is not None:
        values["display_name"] = validation.required_text(input.display_name, "displayName", max_length=200)
    for name, field, limit in (("company_name", "companyName", 200), ("phone", "phone", 50), ("notes", "notes", 5000)):
        raw = getattr(input, name)
        if raw is not None:
            values[name] = validation.text(raw, field, max_length=limit)
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
    values = _contact_values(ctx, input)

    async def create(session: AsyncSession) -> int:
        if "currency" not in values:
            values["currency"] = await session.scalar(
                select(T_ORGANIZATION.c.base_currency).where(T_ORGANIZATION.c.id == viewer.organization_id)
            )
        contact_pk = await session.scalar(
            insert(T_CONTACT).values(organization_id=viewer.organization_id, **values).returning(T_CONTACT.c.id)
        )
        await record_activity(
            session,
            viewer=viewer,
            organization_id=viewer.organization_id,
            contact_id=contact_pk,
            kind="contact_created",
            description="Contact created",
            ip_address=ctx.client_ip,
        )
        return int(contact_pk)

    async with ctx.db.transaction() as session:
        contact_pk = await receipts.once(
            session, viewer, operation="createContact", input=input, result_type="Contact", create=create
        )
    return await ctx.loaders.contact.load(contact_pk)


@returns_errors(UpdateContactError)
async def update_contact(info: strawberry.Info, input: UpdateContactInput) -> UpdateContactResult:
    """Staff: change a customer's details. The currency is fixed once documents or payments exist."""
    ctx: Context = info.context
    viewer = ctx.require_staff()
    scope = ctx.scope
    contact_pk = pk_of(input.id, "Contact")
    values = _contact_values(ctx, input)
    async with ctx.db.transaction() as session:
        current = (await session.execute(scope.where_id(T_CONTACT, contact_pk).with_for_update())).one_or_none()
        if current is None:
            raise DomainError("NOT_FOUND", "No contact with this id.", "id")
        if values.get("currency", current.currency) != current.currency:
            in_use = await session.scalar(
                select(
                    exists().where(T_INVOICE.c.contact_id == contact_pk)
                    | exists().where(T_ESTIMATE.c.contact_id == contact_pk)
                    | exists().where(T_PAYMENT.c.contact_id == contact_pk)
                )
            )
            if in_use:
                raise DomainError("CURRENCY_IN_USE", "The contact already has documents in its currency.", "currency")
        if values:
            await session.execute(
                update(T_CONTACT).where(T_CONTACT.c.id == contact_pk).values(**values, updated_at=func.now())
            )
            await record_activity(
                session,
                viewer=viewer,
                organization_id=viewer.organization_id,
                contact_id=contact_pk,
                kind="contact_updated",
                description="Contact details updated",
                ip_address=ctx.client_ip,
                details={"fields": sorted(values)},
            )
    return await ctx.loaders.contact.load(contact_pk)


def _person_values(input: CreateContactPersonInput | UpdateContactPersonInput) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if input.first_name is not None:
        values["first_name"] = validation.required_text(input.first_name, "firstName", max_length=100)
    for name, field, limit in (("last_name", "lastName", 100), ("phone", "phone", 50), ("mobile", "mobile", 50)):
        raw = getattr(input, name)
        if raw is not None:
            values[name] = validation.text(raw, field, max_length=limit)
    if input.email is not None:
        values["email"] = validation.email(input.email)
    if input.is_primary is not None:
        values["is_primary"] = input.is_primary
    return values


async def _save_person(session: Any, stmt: Any) -> int:
    try:
        async with session.begin_nested():
            return int(await session.scalar(stmt.returning(T_CONTACT_PERSON.c.id)))
    except IntegrityError:
        raise DomainError(
            "EMAIL_TAKEN", "Another contact person of this organization has this email.", "email"
        ) from None


async def _only_primary(session: Any, contact_pk: int, person_pk: int) -> None:
    await session.execute(
        update(T_CONTACT_PERSON)
        .where(T_CONTACT_PERSON.c.contact_id == contact_pk, T_CONTACT_PERSON.c.id != person_pk)
        .values(is_primary=False)
    )


@returns_errors(CreateContactPersonError)
async def create_contact_person(info: strawberry.Info, input: CreateContactPersonInput) -> CreateContactPersonResult:
    """Staff: add a person to a contact (not invited to the portal)."""
    ctx: Context = info.context
    viewer = ctx.require_staff()
    contact_pk = pk_of(input.contact_id, "Contact", field="contactId")
    values = _person_values(input)

    async def create(session: AsyncSession) -> int:
        owner = (await session.execute(ctx.scope.where_id(T_CONTACT, contact_pk).with_for_update())).one_or_none()
        if owner is None:
            raise DomainError("NOT_FOUND", "No contact with this id.", "contactId")
        has_people = await session.scalar(select(exists().where(T_CONTACT_PERSON.c.contact_id == contact_pk)))
        values["is_primary"] = values.get("is_primary", False) or not has_people
        person_pk = await _save_person(
            session,
            insert(T_CONTACT_PERSON).values(organization_id=viewer.organization_id, contact_id=contact_pk, **values),
        )
        if values["is_primary"]:
            await _only_primary(session, contact_pk, person_pk)
        await record_activity(
            session,
            viewer=viewer,
            organization_id=viewer.organization_id,
            contact_id=contact_pk,
            kind="contact_person_added",
            description=f"Contact person {values['first_name']} added",
            ip_address=ctx.client_ip,
        )
        return person_pk

    async with ctx.db.transaction() as session:
        person_pk = await receipts.once(
            session, viewer, operation="createContactPerson", input=input, result_type="ContactPerson", create=create
        )
    return await ctx.loaders.contact_person.load(person_pk)


@returns_errors(UpdateContactPersonError)
async def update_contact_person(info: strawberry.Info, input: UpdateContactPersonInput) -> UpdateContactPersonResult:
    """Staff: change a contact person's details."""
    ctx: Context = info.context
    viewer = ctx.require_staff()
    person_pk = pk_of(input.id, "ContactPerson")
    values = _person_values(input)
    async with ctx.db.transaction() as session:
        current = (
            await session.execute(ctx.scope.where_id(T_CONTACT_PERSON, person_pk).with_for_update())
        ).one_or_none()
        if current is None:
            raise DomainError("NOT_FOUND", "No contact person with this id.", "id")
        if values:
            await _save_person(
                session,
                update(T_CONTACT_PERSON)
                .where(T_CONTACT_PERSON.c.id == person_pk)
                .values(**values, updated_at=func.now()),
            )
            if values.get("is_primary"):
                await _only_primary(session, current.contact_id, person_pk)
            await record_activity(
                session,
                viewer=viewer,
                organization_id=viewer.organization_id,
                contact_id=current.contact_id,
                kind="contact_person_updated",
                description=f"Contact person {current.first_name} updated",
                ip_address=ctx.client_ip,
                details={"fields": sorted(values)},
            )
    return await ctx.loaders.contact_person.load(person_pk)


@strawberry.type
class Mutation:
    create_contact: CreateContactResult = strawberry.field(resolver=create_contact)
    update_contact: UpdateContactResult = strawberry.field(resolver=update_contact)
    create_contact_person: CreateContactPersonResult = strawberry.field(resolver=create_contact_person)
    update_contact_person: UpdateContactPersonResult = strawberry.field(resolver=update_contact_person)
