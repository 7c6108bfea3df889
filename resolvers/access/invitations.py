"""invitePortalUsers, acceptInvite and disablePortalAccess."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import strawberry
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.auth import revoke_sessions
from core.context import Context
from core.errors import DomainError, invalid, not_found
from core.ids import decode_id, from_global_id
from core.scope import T_CONTACT, T_CONTACT_PERSON, T_ORGANIZATION
from models.contacts import PortalStatus
from resolvers.access.common import (
    account_row,
    open_session,
    record_redeemed,
    redeeming,
    session_result,
    store_password,
)
from resolvers.common import one_or_raise, record_action, returns_errors
from schema.access.mutations import (
    AcceptInviteError,
    AcceptInviteInput,
    AcceptInviteResult,
    DisablePortalAccessError,
    DisablePortalAccessResult,
    InvitePortalUsersError,
    InvitePortalUsersPayload,
    InvitePortalUsersResult,
)
from services.access import passwords, tokens
from services.mail import outbox as mail
from services.mail.render import render_mail

MAX_INVITES = 100


async def _resolve_targets(ctx: Context, session: AsyncSession, ids: list[strawberry.ID]) -> list[Any]:
    """Contact persons to invite, locked, each once; a contact id stands for its primary person."""
    persons: dict[int, Any] = {}
    for index, global_id in enumerate(ids):
        field = f"contactPersonIds[{index}]"
        person = await _target(ctx, session, global_id, field)
        if not person.email:
            raise DomainError("NO_EMAIL", "This person has no email address to invite.", field)
        if person.portal_status == PortalStatus.ACTIVE:
            raise DomainError("ALREADY_ACTIVE", "This person already uses the portal.", field)
        persons.setdefault(person.id, person)
    return list(persons.values())


async def _target(ctx: Context, session: AsyncSession, global_id: strawberry.ID, field: str) -> Any:
    """The contact person named by ``global_id`` (a contact's id: its primary person, else its first), locked."""
    missing = not_found("No contact person with this id.", field)
    decoded = from_global_id(global_id)
    if decoded is None or decoded[0] not in ("ContactPerson", "Contact"):
        raise missing
    type_name, pk = decoded
    if type_name == "ContactPerson":
        return await one_or_raise(session, ctx.scope.where_id(T_CONTACT_PERSON, pk).with_for_update(), missing)
    await one_or_raise(session, ctx.scope.where_id(T_CONTACT, pk), not_found("No contact with this id.", field))
    first_person = (
        ctx.scope.select(T_CONTACT_PERSON)
        .where(T_CONTACT_PERSON.c.contact_id == pk)
        .order_by(T_CONTACT_PERSON.c.is_primary.desc(), T_CONTACT_PERSON.c.id)
        .limit(1)
        .with_for_update()
    )
    no_person = DomainError("NO_CONTACT_PERSON", "Add a contact person first: portal access is per person.", field)
    return await one_or_raise(session, first_person, no_person)


@returns_errors(InvitePortalUsersError)
async def invite_portal_users(
    info: strawberry.Info, contact_person_ids: list[strawberry.ID]
) -> InvitePortalUsersResult:
    """Staff: email each person a single-use link to set a password (re-sending voids the older link)."""
    ctx: Context = info.context
    ctx.require_staff()
    if not contact_person_ids or len(contact_person_ids) > MAX_INVITES:
        raise invalid(f"Invite between 1 and {MAX_INVITES} persons at once.", "contactPersonIds")
    async with ctx.db.transaction() as session:
        org = (await session.execute(ctx.scope.select(T_ORGANIZATION))).one()
        if not org.portal_enabled:
            raise DomainError("PORTAL_DISABLED", "Enable the customer portal in the portal settings first.")
        persons = await _resolve_targets(ctx, session, contact_person_ids)
        for person in persons:
            await _invite(ctx, session, org, person)
    ctx.after_commit_mail()
    loaded = await asyncio.gather(*(ctx.loaders.contact_person.load(p.id) for p in persons))
    return InvitePortalUsersPayload(contact_persons=[p for p in loaded if p is not None])


async def _invite(ctx: Context, session: AsyncSession, org: Any, person: Any) -> None:
    """A new invitation token for ``person`` (INVITED from now), its history entry, and the mail with its link."""
    settings = ctx.settings
    token = await tokens.issue_token(
        session,
        kind="INVITE",
        organization_id=org.id,
        ttl=timedelta(hours=settings.invite_ttl_hours),
        contact_person_id=person.id,
    )
    await session.execute(
        update(T_CONTACT_PERSON).where(T_CONTACT_PERSON.c.id == person.id).values(portal_status=PortalStatus.INVITED)
    )
    resent = person.portal_status == PortalStatus.INVITED
    await record_action(
        ctx,
        session,
        kind="portal_invitation_resent" if resent else "portal_invited",
        description=f"Portal invitation {'re-sent' if resent else 'sent'} to {person.email}",
        contact_id=person.contact_id,
        details={"contact_person_id": person.id},
    )
    invitation = render_mail(
        "invite",
        to=person.email,
        subject=f"{org.name} invites you to its customer portal",
        name=person.first_name,
        organization_name=org.name,
        email=person.email,
        portal=org.portal_slug,
        link=f"{settings.public_portal_url.rstrip('/')}/invite/{token}",
        ttl_days=max(1, settings.invite_ttl_hours // 24),
    )
    await mail.enqueue(session, invitation, kind="invite", organization_id=org.id)


@returns_errors(AcceptInviteError)
async def accept_invite(info: strawberry.Info, input: AcceptInviteInput) -> AcceptInviteResult:
    """Set a password from an invitation link and sign in."""
    ctx: Context = info.context
    async with redeeming(ctx, "INVITE", input.token) as (session, token):
        person = await account_row(session, T_CONTACT_PERSON, token.contact_person_id, lock=True)
        portal_enabled = await session.scalar(
            select(T_ORGANIZATION.c.portal_enabled).where(T_ORGANIZATION.c.id == person.organization_id)
        )
        if not portal_enabled:
            raise DomainError("PORTAL_DISABLED", "This portal is switched off; ask the business.")
        password_hash = await passwords.hash_new_password(ctx.settings, input.password, person.email)
        row = await store_password(
            session, T_CONTACT_PERSON, person.id, password_hash, portal_status=PortalStatus.ACTIVE
        )
        await record_redeemed(
            ctx,
            session,
            person,
            kind="portal_invitation_accepted",
            description=f"{person.email} accepted the portal invitation",
            details={"contact_person_id": person.id},
        )
        issued = await open_session(ctx, session, T_CONTACT_PERSON, person)
    return await session_result(ctx, issued, T_CONTACT_PERSON, row, input.transport)


@returns_errors(DisablePortalAccessError)
async def disable_portal_access(info: strawberry.Info, contact_person_id: strawberry.ID) -> DisablePortalAccessResult:
    """Staff: end a person's portal access now: sessions revoked, open sockets closed, links voided."""
    ctx: Context = info.context
    ctx.require_staff()
    missing = not_found("No contact person with this id.", "contactPersonId")
    person_pk = decode_id(contact_person_id, "ContactPerson")
    if person_pk is None:
        raise missing
    async with ctx.db.transaction() as session:
        person = await one_or_raise(session, ctx.scope.where_id(T_CONTACT_PERSON, person_pk).with_for_update(), missing)
        await session.execute(
            update(T_CONTACT_PERSON)
            .where(T_CONTACT_PERSON.c.id == person.id)
            .values(portal_status=PortalStatus.DISABLED)
        )
        revoked = await revoke_sessions(session, contact_person_id=person.id)
        await tokens.void_tokens(session, contact_person_id=person.id)
        await record_action(
            ctx,
            session,
            kind="portal_access_disabled",
            description=f"Portal access disabled for {person.email or person.first_name}",
            contact_id=person.contact_id,
            details={"contact_person_id": person.id, "sessions_revoked": len(revoked)},
        )
    return await ctx.loaders.contact_person.load(person.id)


@strawberry.type
class Mutation:
    invite_portal_users: InvitePortalUsersResult = strawberry.field(resolver=invite_portal_users)
    accept_invite: AcceptInviteResult = strawberry.field(resolver=accept_invite)
    disable_portal_access: DisablePortalAccessResult = strawberry.field(resolver=disable_portal_access)
