"""updateMyAccount and updateMyCompany: portal users keep their own details current."""

from __future__ import annotations

from typing import Any

import strawberry
from sqlalchemy import func, update

from core import validation
from core.context import Context
from core.scope import T_CONTACT, T_CONTACT_PERSON
from resolvers.common import returns_errors
from schema.contacts.mutations import (
    UpdateMyAccountError,
    UpdateMyAccountInput,
    UpdateMyAccountResult,
    UpdateMyCompanyError,
    UpdateMyCompanyInput,
    UpdateMyCompanyResult,
)
from services.documents.history import record_activity


@returns_errors(UpdateMyAccountError)
async def update_my_account(info: strawberry.Info, input: UpdateMyAccountInput) -> UpdateMyAccountResult:
    """Portal: change your name and phone numbers (the change shows in the contact's history)."""
    ctx: Context = info.context
    viewer = ctx.require_portal()
    values: dict[str, Any] = {}
    if input.first_name is not None:
        values["first_name"] = validation.required_text(input.first_name, "firstName", max_length=100)
    for name, field, limit in (("last_name", "lastName", 100), ("phone", "phone", 50), ("mobile", "mobile", 50)):
        if getattr(input, name) is not None:
            values[name] = validation.text(getattr(input, name), field, max_length=limit)
    if values:
        async with ctx.db.transaction() as session:
            await session.execute(
                update(T_CONTACT_PERSON)
                .where(*ctx.scope.conditions(T_CONTACT_PERSON), T_CONTACT_PERSON.c.id == viewer.contact_person_id)
                .values(**values, updated_at=func.now())
            )
            await record_activity(
                session,
                viewer=viewer,
                organization_id=viewer.organization_id,
                contact_id=viewer.contact_id,
                kind="my_account_updated",
                description="Updated their account details in the portal",
                ip_address=ctx.client_ip,
                details={"fields": sorted(values)},
            )
    return await ctx.loaders.contact_person.load(viewer.contact_person_id)


@returns_errors(UpdateMyCompanyError)
async def update_my_company(info: strawberry.Info, input: UpdateMyCompanyInput) -> UpdateMyCompanyResult:
    """Portal: change your company's name, phone and billing and shipping addresses."""
    ctx: Context = info.context
    viewer = ctx.require_portal()
    values: dict[str, Any] = {}
    if input.display_name is not None:
        values["display_name"] = validation.required_text(input.display_name, "displayName", max_length=200)
    if input.company_name is not None:
        values["company_name"] = validation.text(input.company_name, "companyName", max_length=200)
    if input.phone is not None:
        values["phone"] = validation.text(input.phone, "phone", max_length=50)
    for name, field in (("billing_address", "billingAddress"), ("shipping_address", "shippingAddress")):
        address = getattr(input, name)
        if address is not None:
            cleaned = address.to_json()
            for key, value in cleaned.items():
                validation.text(value, f"{field}.{key}", max_length=200)
            values[name] = cleaned
    if values:
        async with ctx.db.transaction() as session:
            await session.execute(
                update(T_CONTACT).where(*ctx.scope.conditions(T_CONTACT)).values(**values, updated_at=func.now())
            )
            await record_activity(
                session,
                viewer=viewer,
                organization_id=viewer.organization_id,
                contact_id=viewer.contact_id,
                kind="my_company_updated",
                description="Updated the company details in the portal",
                ip_address=ctx.client_ip,
                details={"fields": sorted(values)},
            )
    return await ctx.loaders.contact.load(viewer.contact_id)


@strawberry.type
class Mutation:
    update_my_account: UpdateMyAccountResult = strawberry.field(resolver=update_my_account)
    update_my_company: UpdateMyCompanyResult = strawberry.field(resolver=update_my_company)
