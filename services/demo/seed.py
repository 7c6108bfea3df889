"""The demo data behind ``make run``, the docs and the black-box checks (``python app.py seed-demo``).

Two organizations ("Demo Studio" and its rival "Rival Works"), their owners, portal users, and for every
portal contact documents in every status, payments, a project with time, comments and history. Dates are
relative to the day of seeding, so derived statuses (OVERDUE, EXPIRED) are right on that day. Seeding is
idempotent: an organization whose portal slug exists is left alone, and each organization is written in one
transaction, so a second run changes nothing and a failed run leaves nothing half-written.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import typer
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.database import Database, make_engine, resolve_database_url
from core.scope import T_ORGANIZATION, T_STAFF_USER
from core.security import hash_password
from core.settings import Settings
from services.demo.contact import ContactSeeder
from services.demo.documents import CURRENCY, GATEWAYS
from services.demo.specs import (  # noqa: F401  (the demo logins, re-exported for the docs and the tests)
    DEMO_CLIENT_PASSWORD,
    DEMO_LOGINS,
    DEMO_OTHER_PASSWORD,
    DEMO_OWNER_PASSWORD,
    ORGANIZATIONS,
    OrganizationSpec,
)

# Any constant works; it only has to be the same for every process that seeds.
SEED_LOCK_KEY = 0x504F5254_49434F  # "PORTICO"


@dataclass
class SeedResult:
    """What a run did: organizations created, and the ones left alone with the reason."""

    created: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)


async def seed_demo_data(settings: Settings) -> SeedResult:
    """The CLI's ``seed-demo``: seed the configured database, then print the GraphiQL URL and the demo logins."""
    db = Database(make_engine(await resolve_database_url(settings), settings))
    try:
        result = await seed_demo(db, settings)
    finally:
        await db.dispose()
    for slug in result.created:
        typer.echo(f"demo organization {slug!r} created")
    for slug, reason in result.skipped.items():
        typer.echo(f"demo organization {slug!r} left as it is: {reason}")
    typer.echo(f"\nGraphiQL: http://{settings.host}:{settings.port}/graphql")
    typer.echo("\nDemo logins (login input: email, password, and portal for portal users):")
    for login in DEMO_LOGINS:
        portal = f'portal: "{login.portal}"' if login.portal else "staff"
        typer.echo(f"  {login.who:<30} {login.email:<27} {login.password:<20} {portal}")
    return result


async def seed_demo(db: Database, settings: Settings) -> SeedResult:
    """Insert the demo organizations that are missing (by portal slug); each one in its own transaction."""
    result = SeedResult()
    hashes: dict[str, str] = {}
    for spec in ORGANIZATIONS:
        async with db.transaction() as session:
            # concurrent seeders queue here instead of failing on the unique slug
            await session.execute(select(func.pg_advisory_xact_lock(SEED_LOCK_KEY)))
            if await session.scalar(select(T_ORGANIZATION.c.id).where(T_ORGANIZATION.c.portal_slug == spec.slug)):
                result.skipped[spec.slug] = "it exists already"
                continue
            if await session.scalar(select(T_STAFF_USER.c.id).where(T_STAFF_USER.c.email == spec.owner_email)):
                result.skipped[spec.slug] = f"{spec.owner_email} belongs to another organization"
                continue
            for password in _passwords(spec):
                if password not in hashes:
                    hashes[password] = await asyncio.to_thread(hash_password, settings, password)
            today = await session.scalar(select(func.current_date()))  # the day derived statuses compare with
            assert today is not None
            await OrganizationSeeder(session, hashes, today).seed(spec)
            result.created.append(spec.slug)
    return result


def _passwords(spec: OrganizationSpec) -> set[str]:
    persons = (person.password for contact in spec.contacts for person in contact.persons)
    return {spec.owner_password, *(password for password in persons if password)}


class OrganizationSeeder:
    """Writes one organization's rows inside the caller's transaction."""

    def __init__(self, session: AsyncSession, hashes: dict[str, str], today: dt.date) -> None:
        self.session = session
        self.hashes = hashes
        self.today = today
        self.org_id = 0
        self.owner_id = 0
        self.owner_name = ""
        self.pending: dict[Any, list[dict[str, Any]]] = {}

    def day(self, offset: int) -> dt.date:
        return self.today + dt.timedelta(days=offset)

    def at(self, offset: int, hour: int = 10, minute: int = 0) -> dt.datetime:
        return dt.datetime.combine(self.day(offset), dt.time(hour, minute), tzinfo=dt.UTC)

    async def insert(self, table: Any, **values: Any) -> int:
        return int(await self.session.scalar(insert(table).values(**values).returning(table.c.id)) or 0)

    def later(self, table: Any, **values: Any) -> None:
        """Queue a row nobody needs the id of; ``flush`` writes each table's queue in one statement."""
        self.pending.setdefault(table, []).append(values)

    async def flush(self) -> None:
        for table, rows in self.pending.items():
            await self.session.execute(insert(table), rows)
        self.pending.clear()

    async def seed(self, spec: OrganizationSpec) -> None:
        self.org_id = await self.insert(
            T_ORGANIZATION,
            name=spec.name,
            portal_slug=spec.slug,
            base_currency=CURRENCY,
            address=spec.address,
            email=spec.email,
            portal_enabled=True,
            portal_show_projects=True,
            portal_allow_reviews=True,
            payment_gateways=GATEWAYS,
            created_at=self.at(-120),
        )
        self.owner_id = await self.insert(
            T_STAFF_USER,
            organization_id=self.org_id,
            email=spec.owner_email,
            name=spec.owner_name,
            role="OWNER",
            password_hash=self.hashes[spec.owner_password],
            created_at=self.at(-120),
        )
        self.owner_name = spec.owner_name
        for contact in spec.contacts:
            await ContactSeeder(self, contact).seed()
        await self.flush()
