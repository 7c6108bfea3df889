"""invitePortalUsers, acceptInvite and disablePortalAccess."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import strawberry
from sqlalchemy import select, update

from core.auth import issue_session, revoke_sessions
from core.context import Context
from core.errors import DomainError
from core.ids import from_global_id
from core.scope import T_CONTACT, T_CONTACT_PERSON, T_ORGANIZATION
from core.security import hash_password
from resolvers.access.common import session_result
from resolvers.common import returns_errors
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
from services.access import passwords, throttle, tokens
from services.documents.history import record_activity
from services.mail import outbox as mail
from services.mail.render import render_mail

MAX_INVITES = 100


async def _resolve_targets(ctx: Context, session: Any, ids: list[strawberry.ID]) -> list[Any]:
    """Contact persons to invite, locked; a contact id stands for its primary person."""
    scope = ctx.scope
    persons = []
    for index, global_id in enumerate(ids):
        field = f"contactPersonIds[{index}]"
        decoded = from_global_id(global_id)
        if decoded is None or decoded[0] not in ("ContactPerson", "Contact"):
            raise DomainError("NOT_FOUND", "No contact person with this id.", field)
        type_name, pk = decoded
        if type_name == "Contact":
            if (await session.execute(scope.where_id(T_CONTACT, pk))).one_or_none() is None:
                raise DomainError("NOT_FOUND", "No contact with this id.", field)
            stmt = scope.select(T_CONTACT_PERSON).where(T_CONTACT_PERSON.c.contact_id == pk)
            stmt = stmt.order_by(T_CONTACT_PERSON.c.is_primary.desc(), T_CONTACT_PERSON.c.id).limit(1)
            row = (await session.execute(stmt.with_for_update())).one_or_none()
            if row is None:
                raise DomainError(
                    "NO_CONTACT_PERSON", "Add a contact person first: portal access is per person.", field
                )
        else:
            row = (await session.execute(scope.where_id(T_CONTACT_PERSON, pk).with_for_update())).one_or_none()
            if row is None:
                raise DomainError("NOT_FOUND", "No contact person with this id.", field)
        if not row.email:
            raise DomainError("NO_EMAIL", "This person has no email address to invite.", field)
        if row.portal_status == "ACTIVE":
            raise DomainError("ALREADY_ACTIVE", "This person already uses the portal.", field)
        if row.id not in {p.id for p in persons}:
            persons.append(row)
    return persons


@returns_errors(InvitePortalUsersError)
async def invite_portal_users(
    info: strawberry.Info, contact_person_ids: list[strawberry.ID]
) -> InvitePortalUsersResult:
    """Staff: email each person a single-use link to set a password (re-sending voids the older link)."""
    ctx: Context = info.context
    viewer = ctx.require_staff()
    if not contact_person_ids or len(contact_person_ids) > MAX_INVITES:
        raise DomainError("INVALID_INPUT", f"Invite between 1 and {MAX_INVITES} persons at once.", "contactPersonIds")
    settings = ctx.settings
    async with ctx.db.transaction() as session:
        org = (await session.execute(ctx.scope.select(T_ORGANIZATION))).one()
        if not org.portal_enabled:
            raise DomainError("PORTAL_DISABLED", "Enable the customer portal in the portal settings first.")
        persons = await _resolve_targets(ctx, session, contact_person_ids)
        for person in persons:
            token = await tokens.issue_token(
                session,
                kind="INVITE",
                organization_id=org.id,
                ttl=timedelta(hours=settings.invite_ttl_hours),
                contact_person_id=person.id,
            )
            await session.execute(
                update(T_CONTACT_PERSON).where(T_CONTACT_PERSON.c.id == person.id).values(portal_status="INVITED")
            )
            resent = person.portal_status == "INVITED"
            await record_activity(
                session,
                viewer=viewer,
                organization_id=org.id,
                contact_id=person.contact_id,
                kind="portal_invitation_resent" if resent else "portal_invited",
                description=f"Portal invitation {'re-sent' if resent else 'sent'} to {person.email}",
                ip_address=ctx.client_ip,
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
    ctx.after_commit_mail()
    loaded = await asyncio.gather(*(ctx.loaders.contact_person.load(p.id) for p in persons))
    return InvitePortalUsersPayload(contact_persons=[p for p in loaded if p is not None])


@returns_errors(AcceptInviteError)
async def accept_invite(info: strawberry.Info, input: AcceptInviteInput) -> AcceptInviteResult:
    """Set a password from an invitation link and sign in."""
    ctx: Context = info.context
    settings = ctx.settings
    keys = throttle.address_keys(ctx.client_ip)
    await throttle.reserve(ctx.db, keys)  # a token cannot be guessed, but spraying guesses is stopped all the same
    async with ctx.db.transaction() as session:
        token = await tokens.redeem_token(session, kind="INVITE", token=input.token)
        person = (
            await session.execute(
                select(T_CONTACT_PERSON).where(T_CONTACT_PERSON.c.id == token.contact_person_id).with_for_update()
            )
        ).one()
        portal_enabled = await session.scalar(
            select(T_ORGANIZATION.c.portal_enabled).where(T_ORGANIZATION.c.id == person.organization_id)
        )
        if not portal_enabled:
            raise DomainError("PORTAL_DISABLED", "This portal is switched off; ask the business.")
        passwords.check_password_policy(input.password, person.email)
        password_hash = await asyncio.to_thread(hash_password, settings, input.password)
        row = (
            await session.execute(
                update(T_CONTACT_PERSON)
                .where(T_CONTACT_PERSON.c.id == person.id)
                .values(password_hash=password_hash, portal_status="ACTIVE")
                .returning(T_CONTACT_PERSON)
            )
        ).one()
        await throttle.succeeded(session, keys)
        await record_activity(
            session,
            viewer=None,
            organization_id=person.organization_id,
            contact_id=person.contact_id,
            kind="portal_invitation_accepted",
            description=f"{person.email} accepted the portal invitation",
            ip_address=ctx.client_ip,
            details={"contact_person_id": person.id},
        )
        issued = await issue_session(
            session,
            settings,
            organization_id=person.organization_id,
            contact_person_id=person.id,
            user_agent=ctx.user_agent,
            ip_address=ctx.client_ip,
        )
    return await session_result(ctx, issued, T_CONTACT_PERSON, row)


@returns_errors(DisablePortalAccessError)
async def disable_portal_access(info: strawberry.Info, contact_person_id: strawberry.ID) -> DisablePortalAccessResult:
    """Staff: end a person's portal access now: sessions revoked, open sockets closed, links voided."""
    ctx: Context = info.context
    viewer = ctx.require_staff()
    decoded = from_global_id(contact_person_id)
    if decoded is None or decoded[0] != "ContactPerson":
        raise DomainError("NOT_FOUND", "No contact person with this id.", "contactPersonId")
    async with ctx.db.transaction() as session:
        person = (
            await session.execute(ctx.scope.where_id(T_CONTACT_PERSON, decoded[1]).with_for_update())
        ).one_or_none()
        if person is None:
            raise DomainError("NOT_FOUND", "No contact person with this id.", "contactPersonId")
        await session.execute(
            update(T_CONTACT_PERSON).where(T_CONTACT_PERSON.c.id == person.id).values(portal_status="DISABLED")
        )
        revoked = await revoke_sessions(session, contact_person_id=person.id)
        await tokens.void_tokens(session, contact_person_id=person.id)
        await record_activity(
            session,
            viewer=viewer,
            organization_id=viewer.organization_id,
            contact_id=person.contact_id,
            kind="portal_access_disabled",
            description=f"Portal access disabled for {person.email or person.first_name}",
            ip_address=ctx.client_ip,
            details={"contact_person_id": person.id, "sessions_revoked": len(revoked)},
        )
    return await ctx.loaders.contact_person.load(person.id)


@strawberry.type
class Mutation:
    invite_portal_users: InvitePortalUsersResult = strawberry.field(resolver=invite_portal_users)
    accept_invite: AcceptInviteResult = strawberry.field(resolver=accept_invite)
    disable_portal_access: DisablePortalAccessResult = strawberry.field(resolver=disable_portal_access)
