"""Creating organizations and their owners."""

from __future__ import annotations

import re

from sqlalchemy import insert, select

from core import validation
from core.database import Database, make_engine, resolve_database_url
from core.errors import invalid
from core.scope import T_ORGANIZATION, T_STAFF_USER
from core.security import hash_password
from core.settings import Settings

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")


async def insert_organization(
    db: Database,
    settings: Settings,
    *,
    name: str,
    slug: str,
    owner_email: str,
    owner_name: str | None = None,
    password: str,
    currency: str = "USD",
    portal_enabled: bool = True,
) -> int:
    """Create an organization with its owner in one transaction; returns the organization's id."""
    if not SLUG.match(slug):
        raise invalid("The slug takes lower-case letters, digits and dashes.", "slug")
    email = validation.email(owner_email, "ownerEmail")
    if email is None:
        raise invalid("The owner needs an email.", "ownerEmail")
    if len(password) < 10:
        raise invalid("The password needs at least 10 characters.", "password")
    async with db.transaction() as session:
        if await session.scalar(select(T_ORGANIZATION.c.id).where(T_ORGANIZATION.c.portal_slug == slug)):
            raise invalid(f"The slug {slug!r} is taken.", "slug")
        if await session.scalar(select(T_STAFF_USER.c.id).where(T_STAFF_USER.c.email == email)):
            raise invalid(f"{email} already belongs to a staff user.", "ownerEmail")
        org_id = await session.scalar(
            insert(T_ORGANIZATION)
            .values(
                name=name.strip(),
                portal_slug=slug,
                base_currency=validation.currency(currency),
                portal_enabled=portal_enabled,
                email=email,
            )
            .returning(T_ORGANIZATION.c.id)
        )
        await session.execute(
            insert(T_STAFF_USER).values(
                organization_id=org_id,
                email=email,
                name=owner_name or email.split("@")[0],
                role="OWNER",
                password_hash=hash_password(settings, password),
            )
        )
    assert org_id is not None
    return int(org_id)


async def create_organization_with_owner(settings: Settings, **kwargs: object) -> int:
    """The CLI's ``create-organization``."""
    db = Database(make_engine(await resolve_database_url(settings), settings))
    try:
        return await insert_organization(db, settings, **kwargs)  # type: ignore[arg-type]
    finally:
        await db.dispose()
