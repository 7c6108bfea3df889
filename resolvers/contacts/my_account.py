"""updateMyAccount and updateMyCompany: a portal user keeps their own details, and their company's, current.

The portal may change less than staff: a person their names and phone numbers (not the email they sign in with,
nor who is primary); the company its names, phone and addresses (not its email, its currency or staff's notes).
Each mutation writes only the viewer's own row, through the portal scope, and notes the change in the contact's
history for staff to see.
"""

from __future__ import annotations

from typing import Any

import strawberry
from sqlalchemy import ColumnElement, Table, func, update

from core import validation
from core.context import Context
from core.scope import T_CONTACT, T_CONTACT_PERSON
from resolvers.common import record_action, returns_errors
from resolvers.contacts.values import company_names_and_phone, person_names_and_phones
from schema.base import AddressInput
from schema.contacts.mutations import (
    UpdateMyAccountError,
    UpdateMyAccountInput,
    UpdateMyAccountResult,
    UpdateMyCompanyError,
    UpdateMyCompanyInput,
    UpdateMyCompanyResult,
)

MAX_ADDRESS_PART = 200


@returns_errors(UpdateMyAccountError)
async def update_my_account(info: strawberry.Info, input: UpdateMyAccountInput) -> UpdateMyAccountResult:
    """Portal: change your name and phone numbers (the change shows in the contact's history)."""
    ctx: Context = info.context
    viewer = ctx.require_portal()
    await _update_own(
        ctx,
        T_CONTACT_PERSON,
        T_CONTACT_PERSON.c.id == viewer.contact_person_id,
        values=person_names_and_phones(input),
        kind="my_account_updated",
        description="Updated their account details in the portal",
    )
    return await ctx.loaders.contact_person.load(viewer.contact_person_id)


@returns_errors(UpdateMyCompanyError)
async def update_my_company(info: strawberry.Info, input: UpdateMyCompanyInput) -> UpdateMyCompanyResult:
    """Portal: change your company's name, phone and billing and shipping addresses."""
    ctx: Context = info.context
    viewer = ctx.require_portal()
    values = company_names_and_phone(input)
    for column, field in (("billing_address", "billingAddress"), ("shipping_address", "shippingAddress")):
        address = getattr(input, column)
        if address is not None:
            values[column] = _checked_address(address, field)
    await _update_own(
        ctx,
        T_CONTACT,  # the portal scope holds the viewer's own contact only
        values=values,
        kind="my_company_updated",
        description="Updated the company details in the portal",
    )
    return await ctx.loaders.contact.load(viewer.contact_id)


def _checked_address(address: AddressInput, field: str) -> dict[str, str]:
    """The address's parts, each plain text of at most ``MAX_ADDRESS_PART`` characters (``billingAddress.city``)."""
    cleaned = address.to_json()
    for part, value in cleaned.items():
        validation.text(value, f"{field}.{part}", max_length=MAX_ADDRESS_PART)
    return cleaned


async def _update_own(
    ctx: Context, table: Table, *own_row: ColumnElement[bool], values: dict[str, Any], kind: str, description: str
) -> None:
    """Write ``values`` to the viewer's own row of ``table`` (within the portal scope) and record it; nothing when
    no field was given."""
    if not values:
        return
    async with ctx.db.transaction() as session:
        await session.execute(
            update(table).where(*ctx.scope.conditions(table), *own_row).values(**values, updated_at=func.now())
        )
        await record_action(
            ctx,
            session,
            kind=kind,
            description=description,
            contact_id=ctx.require_portal().contact_id,
            details={"fields": sorted(values)},
        )


@strawberry.type
class Mutation:
    update_my_account: UpdateMyAccountResult = strawberry.field(resolver=update_my_account)
    update_my_company: UpdateMyCompanyResult = strawberry.field(resolver=update_my_company)
