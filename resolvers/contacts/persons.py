"""createContactPerson and updateContactPerson (staff). A contact has one primary person; emails are unique in an
organization (they sign in to its portal)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import strawberry
from sqlalchemy import exists, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core import validation
from core.errors import DomainError, not_found
from core.scope import T_CONTACT, T_CONTACT_PERSON
from resolvers.common import create_once, one_or_raise, record_action, returns_errors
from resolvers.contacts.values import person_names_and_phones
from resolvers.edits import editing, staff_target, write_changes
from schema.contacts.mutations import (
    CreateContactPersonError,
    CreateContactPersonInput,
    CreateContactPersonResult,
    UpdateContactPersonError,
    UpdateContactPersonInput,
    UpdateContactPersonResult,
)


def _person_values(input: CreateContactPersonInput | UpdateContactPersonInput) -> dict[str, Any]:
    values = person_names_and_phones(input)
    if input.email is not None:
        values["email"] = validation.email(input.email)
    if input.is_primary is not None:
        values["is_primary"] = input.is_primary
    return values


@asynccontextmanager
async def _email_unique(session: AsyncSession) -> AsyncIterator[None]:
    """A savepoint around writing a person; EMAIL_TAKEN when the organization has the email already."""
    try:
        async with session.begin_nested():
            yield
    except IntegrityError:
        raise DomainError(
            "EMAIL_TAKEN", "Another contact person of this organization has this email.", "email"
        ) from None


async def _only_primary(session: AsyncSession, contact_pk: int, person_pk: int) -> None:
    await session.execute(
        update(T_CONTACT_PERSON)
        .where(T_CONTACT_PERSON.c.contact_id == contact_pk, T_CONTACT_PERSON.c.id != person_pk)
        .values(is_primary=False)
    )


@returns_errors(CreateContactPersonError)
async def create_contact_person(info: strawberry.Info, input: CreateContactPersonInput) -> CreateContactPersonResult:
    """Staff: add a person to a contact (not invited to the portal); a contact's first person is its primary."""
    ctx, contact_pk = staff_target(info, input.contact_id, "Contact", field="contactId")
    values = _person_values(input)

    async def create(session: AsyncSession) -> int:
        await one_or_raise(
            session,
            ctx.scope.where_id(T_CONTACT, contact_pk).with_for_update(),
            not_found("No contact with this id.", "contactId"),
        )
        has_people = await session.scalar(select(exists().where(T_CONTACT_PERSON.c.contact_id == contact_pk)))
        values["is_primary"] = values.get("is_primary", False) or not has_people
        async with _email_unique(session):
            person_pk = await session.scalar(
                insert(T_CONTACT_PERSON)
                .values(organization_id=ctx.scope.organization_id, contact_id=contact_pk, **values)
                .returning(T_CONTACT_PERSON.c.id)
            )
        if values["is_primary"]:
            await _only_primary(session, contact_pk, person_pk)
        await record_action(
            ctx,
            session,
            kind="contact_person_added",
            description=f"Contact person {values['first_name']} added",
            contact_id=contact_pk,
        )
        return int(person_pk)

    person_pk = await create_once(
        ctx, operation="createContactPerson", input=input, result_type="ContactPerson", create=create
    )
    return await ctx.loaders.contact_person.load(person_pk)


@returns_errors(UpdateContactPersonError)
async def update_contact_person(info: strawberry.Info, input: UpdateContactPersonInput) -> UpdateContactPersonResult:
    """Staff: change a contact person's details."""
    ctx, person_pk = staff_target(info, input.id, "ContactPerson")
    values = _person_values(input)
    locked = ctx.scope.where_id(T_CONTACT_PERSON, person_pk).with_for_update()
    async with editing(ctx, locked, "No contact person with this id.") as (session, current):
        async with _email_unique(session):
            await write_changes(
                ctx,
                session,
                T_CONTACT_PERSON,
                person_pk,
                values,
                kind="contact_person_updated",
                description=f"Contact person {current.first_name} updated",
                contact_id=current.contact_id,
            )
        if values.get("is_primary"):
            await _only_primary(session, current.contact_id, person_pk)
    return await ctx.loaders.contact_person.load(person_pk)


@strawberry.type
class Mutation:
    create_contact_person: CreateContactPersonResult = strawberry.field(resolver=create_contact_person)
    update_contact_person: UpdateContactPersonResult = strawberry.field(resolver=update_contact_person)
