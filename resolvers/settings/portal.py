"""Portal settings."""

from __future__ import annotations

from typing import Any

import strawberry
from sqlalchemy import update

from core import validation
from core.auth import sessions_changed
from core.context import Context
from core.errors import DomainError
from core.scope import T_ORGANIZATION
from resolvers.common import record_action, returns_errors
from schema.settings.mutations import (
    MAX_PAYMENT_INSTRUCTIONS,
    PortalSettingsInput,
    UpdatePortalSettingsError,
    UpdatePortalSettingsResult,
)
from schema.settings.types import Organization, PortalSettings


async def portal_settings(info: strawberry.Info) -> PortalSettings:
    """The viewer's organization's portal settings (portal users see what applies to them)."""
    ctx: Context = info.context
    async with ctx.db.session() as session:
        row = (await session.execute(ctx.scope.select(T_ORGANIZATION))).one()
    return PortalSettings.from_row(row)


async def organization(info: strawberry.Info) -> Organization:
    """The viewer's organization."""
    ctx: Context = info.context
    return await ctx.loaders.organization.load(ctx.require_viewer().organization_id)


@returns_errors(UpdatePortalSettingsError)
async def update_portal_settings(info: strawberry.Info, input: PortalSettingsInput) -> UpdatePortalSettingsResult:
    """Owners and admins: change how the portal behaves."""
    ctx: Context = info.context
    viewer = ctx.require_staff()
    if viewer.role not in ("OWNER", "ADMIN"):
        raise DomainError("FORBIDDEN", "Only the owner or an admin may change portal settings.")
    values: dict[str, Any] = {}
    if input.portal_enabled is not None:
        values["portal_enabled"] = input.portal_enabled
    if input.show_projects_and_timesheets is not None:
        values["portal_show_projects"] = input.show_projects_and_timesheets
    if input.allow_reviews is not None:
        values["portal_allow_reviews"] = input.allow_reviews
    if input.payment_gateways is not None:
        values["payment_gateways"] = sorted({gateway.value for gateway in input.payment_gateways})
    if input.notification_emails is not None:
        emails = [validation.email(e, f"notificationEmails[{i}]") for i, e in enumerate(input.notification_emails)]
        values["notification_emails"] = sorted({e for e in emails if e})
    if input.payment_instructions is not None:
        values["payment_instructions"] = validation.text(
            input.payment_instructions, "paymentInstructions", max_length=MAX_PAYMENT_INSTRUCTIONS
        )
    async with ctx.db.transaction() as session:
        if values:
            await session.execute(update(T_ORGANIZATION).where(*ctx.scope.conditions(T_ORGANIZATION)).values(**values))
            await record_action(
                ctx,
                session,
                kind="portal_settings_updated",
                description="Portal settings updated",
                details={"fields": sorted(values)},
            )
            if values.get("portal_enabled") is False:  # the organization's portal sockets close after commit
                sessions_changed(session, organization_id=viewer.organization_id)
        row = (await session.execute(ctx.scope.select(T_ORGANIZATION))).one()
    return PortalSettings.from_row(row)


@strawberry.type
class Query:
    portal_settings: PortalSettings = strawberry.field(resolver=portal_settings)
    organization: Organization = strawberry.field(resolver=organization)


@strawberry.type
class Mutation:
    update_portal_settings: UpdatePortalSettingsResult = strawberry.field(resolver=update_portal_settings)
